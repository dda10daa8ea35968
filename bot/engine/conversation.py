"""Deciding the bot's answer: (state, text, clock, NLU) -> (new state, events). No I/O here.

The order in which a message is read:
1. STOP / START, always.
2. While a mediator has the conversation, everything goes to them.
3. AIDE / MENU, at any time.
4. The answer to a question the bot asked (a number, OUI / NON, a site name).
5. Guide keywords: SUITE, RETOUR, REPETER, reprendre.
6. Only then the NLU: intent and service, with a numbered clarification when it hesitates.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.engine.events import (
    Event,
    GuideEnded,
    GuideStarted,
    MessageUnderstood,
    OpenTicket,
    OptedIn,
    OptedOut,
    SendReply,
)
from bot.engine.keywords import Keyword, as_number, leading_number, match_keyword
from bot.engine.privacy import privacy_turn
from bot.engine.state import ConversationState, Pending
from bot.engine.workshops import (
    WORKSHOP_INTENTS,
    WORKSHOP_PENDING,
    AwaitingAnswer,
    EnrolmentView,
    WorkshopView,
    workshop_turn,
)
from bot.engine.workshops import choose as choose_workshop
from bot.engine.workshops import on_intent as workshop_intent
from flows.library import Library
from flows.render import step_sms
from flows.schema import END, GUIDE_PREFIX, HANDOFF, Guide, Step
from flows.texts import Texts
from nlu.result import ParseResult

# Intents that are part of talking, not needs a guide answers.
CONVERSATIONAL_INTENTS = frozenset({"greet", "thank", "affirm", "deny", "out_of_scope"})
# Candidates below this share of confidence are not worth offering in a clarification.
CLARIFY_MIN_CONFIDENCE = 0.08
CLARIFY_MAX_CANDIDATES = 3

STEP_KEYBOARD = ("SUITE", "RETOUR", "AIDE")
YES_NO_KEYBOARD = ("OUI", "NON")


@dataclass(frozen=True)
class ResidentView:
    """What the engine may know about the resident beyond the conversation state."""

    opted_out: bool = False
    has_open_ticket: bool = False
    # Filled by bot/inbound/pipeline.py for the workshop side (bot/engine/workshops.py).
    workshops: tuple[WorkshopView, ...] = ()
    enrolments: tuple[EnrolmentView, ...] = ()
    awaiting: AwaitingAnswer | None = None


@dataclass(frozen=True)
class Turn:
    state: ConversationState
    text: str
    now: datetime
    resident: ResidentView = ResidentView()


@dataclass(frozen=True)
class EngineContext:
    library: Library
    texts: Texts
    understand: Callable[[str], ParseResult]
    extract_service: Callable[[str], str | None] = lambda _text: None
    confidence_threshold: float = 0.5
    resume_after: timedelta = timedelta(hours=3)
    session_timeout: timedelta = timedelta(hours=72)
    misunderstandings_before_mediator: int = 2


@dataclass
class Outcome:
    state: ConversationState
    events: list[Event] = field(default_factory=list)

    @property
    def replies(self) -> list[str]:
        return [event.text for event in self.events if isinstance(event, SendReply)]


def respond(turn: Turn, context: EngineContext) -> Outcome:
    """The engine's single entry point."""
    return _Conversation(turn, context).run()


class _Conversation:
    """One turn of the conversation; collects events while it reads the message."""

    def __init__(self, turn: Turn, context: EngineContext) -> None:
        self.turn = turn
        self.ctx = context
        self.state = copy.deepcopy(turn.state)
        self.events: list[Event] = []
        self.texts = context.texts
        self.returning = False

    # -- entry -----------------------------------------------------------------------------------

    def run(self) -> Outcome:
        state, now = self.state, self.turn.now
        if state.last_activity is not None:
            idle = now - state.last_activity
            if idle > self.ctx.session_timeout:
                self.state = state = ConversationState(language=state.language)
            elif idle > self.ctx.resume_after:
                self.returning = True
        state.last_activity = now
        self._read(self.turn.text.strip())
        return Outcome(state=self.state, events=self.events)

    def _read(self, text: str) -> None:
        if not text:
            self._say(self.texts("empty_message"))
            return
        keyword = match_keyword(text)
        if keyword is Keyword.STOP:
            self.state.pending = None
            self.events.append(OptedOut())
            self._say(self.texts("opt_out"))
            return
        if keyword is Keyword.START:
            self.events.append(OptedIn())
            self._say(self.texts("opt_in"))
            return
        if privacy_turn(self, keyword):  # MES DONNEES / OUBLIER, even while a mediator has the conversation
            return
        if self.turn.resident.has_open_ticket:
            self._forward_to_mediator()
            return
        self.state.mediator_notified = False
        if keyword is Keyword.HUMAN:
            self._open_ticket("asked")
            return
        if keyword is Keyword.MENU:
            self._show_menu()
            return
        if workshop_turn(self, keyword, text):
            return
        pending = self.state.pending
        if pending is not None:
            self.state.pending = None
            if self._answer(pending, text, keyword):
                return
        if keyword is Keyword.RESUME:
            self._resume()
            return
        if self._guide_keyword(keyword, text):
            return
        self._understand(text, interrupted=pending)

    # -- a mediator has the conversation ---------------------------------------------------------

    def _forward_to_mediator(self) -> None:
        # The message joins the open ticket (bot/inbound/pipeline.py); say so once, then stay quiet.
        if not self.state.mediator_notified:
            self.state.mediator_notified = True
            self._say(self.texts("handoff_waiting"))

    # -- answers to the bot's questions ----------------------------------------------------------

    def _answer(self, pending: Pending, text: str, keyword: Keyword | None) -> bool:
        """True when ``text`` answered ``pending``; False lets the message be read afresh."""
        if pending.kind == "closing":
            return self._answer_closing(pending, text, keyword)
        if pending.kind == "offer_mediator" and keyword in (Keyword.YES, Keyword.NO):
            self._choose(pending, {Keyword.YES: 1, Keyword.NO: 2}[keyword])
            return True
        number = leading_number(text)
        if number is not None:
            if 1 <= number <= len(pending.options) or (number == 0 and pending.kind == "menu"):
                self._choose(pending, number)
            else:
                self._ask_number_again(pending)
            return True
        if pending.kind == "service":
            service = self.ctx.extract_service(text)
            if service is not None:
                self._start_for_intent(pending.intent or "", service)
                return True
        return False

    def _answer_closing(self, pending: Pending, text: str, keyword: Keyword | None) -> bool:
        guide_id, step_id = self.state.guide_id, self.state.step_id
        if keyword is None:
            intent = self._parse(text).intent.name
            keyword = {"affirm": Keyword.YES, "thank": Keyword.YES, "deny": Keyword.NO}.get(intent)
            if keyword is None:
                self._end_guide()
                return False
        if keyword in (Keyword.YES, Keyword.NEXT):
            if guide_id:
                self.events.append(GuideEnded(guide_id, "resolved", step_id))
            self._end_guide()
            self.state.misunderstandings = 0
            self._say(self.texts("guide_resolved"))
            return True
        if keyword is Keyword.NO:
            if guide_id:
                self.events.append(GuideEnded(guide_id, "failed", step_id))
            self._open_ticket("guide_failed")
            return True
        self.state.pending = pending
        self._say(self.texts("closing_unclear"), YES_NO_KEYBOARD)
        return True

    def _choose(self, pending: Pending, number: int) -> None:
        if number == 0:
            self._resume()
            return
        option = pending.options[number - 1]
        self.state.misunderstandings = 0
        if pending.kind == "choice":
            self._go(option["next"])
        elif pending.kind == "service":
            self._start_for_intent(pending.intent or "", option["service"])
        elif pending.kind in ("clarify", "menu"):
            if option.get("other"):
                self._say(self.texts("rephrase"))
            elif option.get("guide"):
                self._start_guide(self.ctx.library.get(option["guide"]))
            else:
                self._start_for_intent(option["intent"], option.get("service"))
        elif pending.kind in WORKSHOP_PENDING:
            choose_workshop(self, pending, option)
        elif pending.kind == "offer_mediator":
            if option.get("handoff"):
                self._open_ticket("misunderstood")
            else:
                self._say(self.texts("rephrase"))

    def _ask_number_again(self, pending: Pending) -> None:
        self.state.pending = pending
        self._say(self.texts("choose_number", max=len(pending.options)), self._number_keyboard(pending))

    # -- guides ----------------------------------------------------------------------------------

    def _guide(self) -> Guide | None:
        if self.state.guide_id is None or self.state.guide_id not in self.ctx.library.guides:
            return None
        return self.ctx.library.get(self.state.guide_id)

    def _guide_keyword(self, keyword: Keyword | None, text: str) -> bool:
        guide = self._guide()
        if keyword is Keyword.NEXT or (keyword is None and as_number(text) == 1):
            if guide is None:
                self._say(self.texts("nothing_in_progress"))
            else:
                self._go(guide.next_of(self.state.step_id or guide.steps[0].id))
            return True
        if keyword is Keyword.BACK:
            if guide is None:
                self._say(self.texts("nothing_in_progress"))
                return True
            position = guide.position(self.state.step_id or guide.steps[0].id)
            if position <= 1:
                self._say(self.texts("first_step_already"))
                self._show_step(guide, guide.steps[0])
            else:
                self._show_step(guide, guide.steps[position - 2])
            return True
        if keyword is Keyword.REPEAT:
            if guide is None:
                self._say(self.texts("nothing_in_progress"))
            else:
                self._show_step(guide, guide.step(self.state.step_id or guide.steps[0].id))
            return True
        return False

    def _start_guide(self, guide: Guide) -> None:
        current = self._guide()
        if current is not None and current.id != guide.id:
            self.state.paused_guide_id, self.state.paused_step_id = current.id, self.state.step_id
        self.state.guide_id = guide.id
        self.state.misunderstandings = 0
        self.events.append(GuideStarted(guide.id))
        key = "guide_intro" if len(guide.steps) > 1 else "guide_intro_single"
        self._say(self.texts(key, title=guide.title, count=len(guide.steps)))
        self._show_step(guide, guide.steps[0])

    def _show_step(self, guide: Guide, step: Step) -> None:
        self.state.step_id = step.id
        if step.question is not None:
            options = [{"next": choice.next} for choice in step.question.choices]
            self.state.pending = Pending(kind="choice", options=options)
            self._say(step_sms(guide, step), tuple(str(n) for n in range(1, len(options) + 1)) + ("AIDE",))
        else:
            self.state.pending = None
            self._say(step_sms(guide, step), STEP_KEYBOARD)

    def _go(self, target: str) -> None:
        guide = self._guide()
        if guide is None:
            self._say(self.texts("nothing_in_progress"))
            return
        if target == END:
            self.state.pending = Pending(kind="closing")
            self._say(guide.closing or self.texts("guide_closing"), YES_NO_KEYBOARD)
        elif target == HANDOFF:
            self._open_ticket("choice")
        elif target.startswith(GUIDE_PREFIX):
            self._start_guide(self.ctx.library.get(target.removeprefix(GUIDE_PREFIX)))
        else:
            self._show_step(guide, guide.step(target))

    def _end_guide(self) -> None:
        self.state.guide_id = self.state.step_id = None
        self.state.pending = None

    def _resume(self) -> None:
        state = self.state
        if state.paused_guide_id and state.paused_guide_id in self.ctx.library.guides:
            guide = self.ctx.library.get(state.paused_guide_id)
            step_id = state.paused_step_id or guide.steps[0].id
            state.guide_id, state.step_id = guide.id, step_id
            state.paused_guide_id = state.paused_step_id = None
            self._show_step(guide, guide.step(step_id))
            return
        guide = self._guide()
        if guide is None:
            self._say(self.texts("nothing_in_progress"))
        else:
            self._show_step(guide, guide.step(self.state.step_id or guide.steps[0].id))

    def _resume_prompt(self, guide: Guide) -> None:
        step_id = self.state.step_id or guide.steps[0].id
        self._say(
            self.texts("resume", position=guide.position(step_id), total=len(guide.steps), title=guide.title),
            ("SUITE", "MENU"),
        )

    # -- menu ------------------------------------------------------------------------------------

    def _show_menu(self) -> None:
        options: list[dict[str, str | None]] = []
        paused = self.state.paused_guide_id or self.state.guide_id
        lines = [self.texts("menu_header")]
        if paused and paused in self.ctx.library.guides:
            # A shorter header leaves room for the resume line: the menu stays one SMS.
            lines = [self.texts("menu_header_resume"),
                     "0 " + self.texts("menu_resume", title=self.ctx.library.get(paused).title)]
            if not self.state.paused_guide_id:
                self.state.paused_guide_id, self.state.paused_step_id = self.state.guide_id, self.state.step_id
        for number, entry in enumerate(self.ctx.library.menu, start=1):
            lines.append(f"{number} {entry.label}")
            options.append({"guide": entry.guide, "intent": entry.intent})
        self.state.pending = Pending(kind="menu", options=options)
        self._say("\n".join(lines), tuple(str(n) for n in range(1, len(options) + 1)))

    # -- understanding free text -----------------------------------------------------------------

    def _parse(self, text: str) -> ParseResult:
        return self.ctx.understand(text)

    def _understand(self, text: str, interrupted: Pending | None) -> None:
        parse = self._parse(text)
        intent, confidence, service = parse.intent.name, parse.intent.confidence, parse.service
        self.events.append(MessageUnderstood(intent, confidence, service))
        self.state.last_intent, self.state.last_confidence = intent, confidence
        self.state.last_service = service or self.state.last_service
        guide = self._guide()
        confident = confidence >= self.ctx.confidence_threshold

        if not confident and interrupted is not None and interrupted.kind != "closing":
            # They were answering a numbered question and we can't read anything else in it.
            self._misunderstood(lambda: self._ask_number_again(interrupted))
            return
        if self.returning and guide is not None and (not confident or intent in ("greet", "thank", "affirm")):
            self._resume_prompt(guide)
            return
        if not confident:
            self._clarify(parse)
            return
        if intent == "human_handoff":
            self._open_ticket("handoff_intent")
        elif intent == "greet":
            self._say(self.texts("greet"))
        elif intent == "thank":
            self._say(self.texts("thank"))
        elif intent == "affirm":
            if guide is not None:
                self._go(guide.next_of(self.state.step_id or guide.steps[0].id))
            else:
                self._say(self.texts("nothing_in_progress"))
        elif intent == "deny":
            if guide is not None:
                self._offer_mediator()
            else:
                self._say(self.texts("rephrase"))
        elif intent == "out_of_scope":
            self._misunderstood(lambda: self._say(self.texts("out_of_scope")))
        elif intent in WORKSHOP_INTENTS and workshop_intent(self, intent):
            pass
        else:
            self._start_for_intent(intent, service)

    def _start_for_intent(self, intent: str, service: str | None) -> None:
        library = self.ctx.library
        guide = library.for_intent(intent, service)
        if guide is not None:
            self._start_guide(guide)
            return
        services = library.services_for(intent)
        if services and service is None:
            self._ask_service(intent, services)
            return
        if intent == "human_handoff":
            self._open_ticket("handoff_intent")
            return
        self._say(self.texts("no_guide_yet"))

    def _ask_service(self, intent: str, services: list[str]) -> None:
        lines = [self.texts("ask_service")]
        lines += [f"{n} {self.texts.service_label(s)}" for n, s in enumerate(services, start=1)]
        self.state.pending = Pending(kind="service", intent=intent, options=[{"service": s} for s in services])
        self._say("\n".join(lines), self._number_keyboard(self.state.pending))

    def _clarify(self, parse: ParseResult) -> None:
        candidates = [
            score for score in parse.intent_ranking
            if score.name not in CONVERSATIONAL_INTENTS and score.confidence >= CLARIFY_MIN_CONFIDENCE
        ][:CLARIFY_MAX_CANDIDATES]
        if not candidates:
            self._misunderstood(lambda: self._say(self.texts("not_understood")))
            return

        def ask() -> None:
            lines = [self.texts("clarify_header")]
            options: list[dict[str, str | bool | None]] = []
            for number, score in enumerate(candidates, start=1):
                lines.append(f"{number} {self._need_label(score.name, parse.service)}")
                options.append({"intent": score.name, "service": parse.service})
            lines.append(f"{len(candidates) + 1} {self.texts('clarify_other')}")
            options.append({"other": True})
            self.state.pending = Pending(kind="clarify", options=options)
            self._say("\n".join(lines), self._number_keyboard(self.state.pending))

        self._misunderstood(ask)

    def _need_label(self, intent: str, service: str | None) -> str:
        guide = self.ctx.library.for_intent(intent, service)
        if guide is not None:
            return guide.title
        label = self.texts.intent_label(intent)
        return f"{label} {self.texts.service_label(service)}" if service else label

    def _misunderstood(self, say_it: Callable[[], None]) -> None:
        """Count a misunderstanding; past the limit, offer a mediator instead of asking again."""
        self.state.misunderstandings += 1
        if self.state.misunderstandings >= self.ctx.misunderstandings_before_mediator:
            self._offer_mediator()
        else:
            say_it()

    def _offer_mediator(self) -> None:
        self.state.pending = Pending(kind="offer_mediator", options=[{"handoff": True}, {"rephrase": True}])
        text = "\n".join([
            self.texts("offer_mediator"),
            "1 " + self.texts("offer_mediator_yes"),
            "2 " + self.texts("offer_mediator_no"),
        ])
        self._say(text, ("1", "2"))

    # -- hand-over -------------------------------------------------------------------------------

    def _open_ticket(self, reason: str) -> None:
        guide = self._guide()
        state = self.state
        self.events.append(
            OpenTicket(
                reason=reason,
                theme=guide.theme if guide else None,
                subtheme=guide.subtheme if guide else None,
                guide_id=guide.id if guide else None,
                step_id=state.step_id if guide else None,
                intent=state.last_intent,
                confidence=state.last_confidence,
                service=(guide.service if guide and guide.service else state.last_service),
            )
        )
        state.misunderstandings = 0
        state.pending = None
        state.mediator_notified = True
        self._say(self.texts("handoff_opened"))

    # -- output ----------------------------------------------------------------------------------

    def _say(self, text: str, keyboard: tuple[str, ...] | None = None) -> None:
        self.events.append(SendReply(text=text, keyboard=keyboard))

    @staticmethod
    def _number_keyboard(pending: Pending) -> tuple[str, ...]:
        return tuple(str(n) for n in range(1, len(pending.options) + 1))
