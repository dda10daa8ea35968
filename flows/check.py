"""``relais flows check``: lint the guide library before it reaches a resident.

Every SMS the library can send is measured exactly as the engine renders it (``step_sms``), so a
library that passes sends GSM-7 SMS of one segment. Errors break a resident's path (an SMS in
UCS-2, a dead branch, an intent with no guide, a link to an unofficial site); warnings are about
plain language and are for the writer to judge. Data the rules use lives in ``check_rules.yml``.

Run it: ``relais flows check`` or ``python -m flows.check``.
"""

from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from bot.sms.gsm7 import count_segments, non_gsm7_characters
from flows.library import GUIDES_DIR, MENU_FILE, Library, LibraryError, load_guide
from flows.render import step_sms
from flows.schema import END, GUIDE_PREFIX, HANDOFF, Guide, Step

FLOWS_DIR = Path(__file__).parent
RULES_FILE = FLOWS_DIR / "check_rules.yml"
COVERAGE_FILE = FLOWS_DIR / "coverage.yml"
MESSAGES_DIR = FLOWS_DIR / "messages"
INTENTS_FILE = FLOWS_DIR.parent / "nlu" / "intents.yml"

Severity = Literal["ERROR", "WARNING"]
NO_STEP = "-"  # a finding about the whole file rather than one step
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n")
_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Finding:
    severity: Severity
    file: str
    step: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity} {self.file}:{self.step}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class CheckPaths:
    """Where the checker reads; tests point it at a small library in a temporary folder."""

    guides_dir: Path = GUIDES_DIR
    menu_file: Path = MENU_FILE
    coverage_file: Path = COVERAGE_FILE
    messages_dir: Path = MESSAGES_DIR
    intents_file: Path = INTENTS_FILE
    rules_file: Path = RULES_FILE


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    guides: int = 0
    sms: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "ERROR"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "WARNING"]

    def summary(self) -> str:
        return (
            f"{self.guides} guides, {self.sms} SMS checked: "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )


@dataclass(frozen=True)
class Rules:
    allowed_domains: tuple[str, ...]
    max_sentence_words: int
    words_to_avoid: dict[str, str]
    themes: frozenset[str]
    subthemes: frozenset[str]
    menu_max_entries: int
    menu_max_label_chars: int
    placeholder_samples: dict[str, str]
    default_placeholder_sample: str

    @classmethod
    def load(cls, path: Path) -> Rules:
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            allowed_domains=tuple(d.lower() for d in raw["allowed_domains"]),
            max_sentence_words=int(raw["max_sentence_words"]),
            words_to_avoid={str(k).lower(): str(v) for k, v in raw["words_to_avoid"].items()},
            themes=frozenset(raw["themes"]),
            subthemes=frozenset(raw.get("subthemes", [])),
            menu_max_entries=int(raw["menu"]["max_entries"]),
            menu_max_label_chars=int(raw["menu"]["max_label_chars"]),
            placeholder_samples={str(k): str(v) for k, v in raw.get("placeholder_samples", {}).items()},
            default_placeholder_sample=str(raw.get("default_placeholder_sample", "X" * 20)),
        )

    def domain_allowed(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)


class _Checker:
    def __init__(self, paths: CheckPaths, base: Path | None) -> None:
        self.paths = paths
        self.base = base
        self.rules = Rules.load(paths.rules_file)
        self.report = Report()
        self.known_intents, self.known_services = _load_contract(paths.intents_file)

    # -- output ----------------------------------------------------------------------------------

    def _name(self, path: Path) -> str:
        if self.base is not None:
            try:
                return str(path.resolve().relative_to(self.base.resolve()))
            except ValueError:
                pass
        return str(path)

    def error(self, path: Path, step: str, rule: str, message: str) -> None:
        self.report.findings.append(Finding("ERROR", self._name(path), step, rule, message))

    def warning(self, path: Path, step: str, rule: str, message: str) -> None:
        self.report.findings.append(Finding("WARNING", self._name(path), step, rule, message))

    # -- the whole library -----------------------------------------------------------------------

    def run(self) -> Report:
        library = self._load_guides()
        for guide_id, guide in library.guides.items():
            self._check_guide(library, guide, library.files[guide_id])
        self._check_ambiguity(library)
        self._check_menu(library)
        self._check_coverage(library)
        self._check_messages(library)
        return self.report

    def _load_guides(self) -> Library:
        guides: dict[str, Guide] = {}
        files: dict[str, Path] = {}
        for path in sorted(self.paths.guides_dir.glob("*.yml")):
            try:
                guide = load_guide(path)
            except LibraryError as exc:
                message = str(exc).removeprefix(f"{path}: ")
                self.error(path, NO_STEP, "schema", message)
                continue
            if guide.id in guides:
                self.error(path, NO_STEP, "schema", f"guide id '{guide.id}' is already used by {files[guide.id].name}")
                continue
            guides[guide.id] = guide
            files[guide.id] = path
        self.report.guides = len(guides)
        return Library(guides=guides, files=files)

    # -- one guide -------------------------------------------------------------------------------

    def _check_guide(self, library: Library, guide: Guide, path: Path) -> None:
        self._check_labels(guide, path)
        for step in guide.steps:
            self._check_sms(path, step.id, step_sms(guide, step), long_reason=step.long_reason)
            self._check_plain_language(path, step.id, step.text)
            if step.question is not None:
                self._check_plain_language(path, step.id, step.question.text)
            if step.link is not None:
                self._check_link(path, step.id, str(step.link))
        if guide.closing is not None:
            self._check_sms(path, "closing", guide.closing)
            self._check_plain_language(path, "closing", guide.closing)
        for source in guide.sources:
            self._check_link(path, "sources", str(source))
        if not guide.sources:
            self.warning(path, NO_STEP, "sources", "no official source: say where the steps were checked")
        self._check_graph(library, guide, path)

    def _check_labels(self, guide: Guide, path: Path) -> None:
        # The title is sent inside the intro and the resume SMS.
        bad = non_gsm7_characters(guide.title)
        if bad:
            self.error(path, NO_STEP, "gsm7", f"title has characters outside GSM-7: {_show(bad)}")
        for intent in guide.intents:
            if self.known_intents and intent not in self.known_intents:
                self.error(path, NO_STEP, "intent", f"unknown intent '{intent}' (not in the NLU contract)")
        if guide.service is not None and self.known_services and guide.service not in self.known_services:
            self.error(path, NO_STEP, "service", f"unknown service '{guide.service}'")
        if guide.theme not in self.rules.themes:
            self.error(path, NO_STEP, "theme", f"unknown theme '{guide.theme}'")
        if guide.subtheme is not None and guide.subtheme not in self.rules.subthemes:
            self.error(path, NO_STEP, "theme", f"unknown subtheme '{guide.subtheme}'")

    def _check_sms(self, path: Path, step: str, text: str, long_reason: str | None = None) -> None:
        self.report.sms += 1
        bad = non_gsm7_characters(text)
        if bad:
            self.error(path, step, "gsm7", f"characters outside GSM-7 switch this SMS to UCS-2: {_show(bad)}")
            return
        sms = count_segments(text)
        if sms.segments > 1 and not long_reason:
            self.error(
                path, step, "length",
                f"{sms.units} characters, {sms.segments} SMS (max 160 for one); shorten it or give a long_reason",
            )
        elif sms.segments == 1 and long_reason:
            self.warning(path, step, "length", "long_reason given but the SMS fits in one segment")

    def _check_link(self, path: Path, step: str, url: str) -> None:
        if urlsplit(url).scheme != "https":
            self.error(path, step, "link", f"{url}: only https links")
        if not self.rules.domain_allowed(url):
            host = urlsplit(url).hostname
            self.error(path, step, "link", f"{url}: domain '{host}' is not in the allow-list of official sites")

    def _check_plain_language(self, path: Path, step: str, text: str) -> None:
        for sentence in _SENTENCE_END.split(text):
            words = _WORD.findall(sentence)
            if len(words) > self.rules.max_sentence_words:
                self.warning(
                    path, step, "plain-language",
                    f"sentence of {len(words)} words (max {self.rules.max_sentence_words}): "
                    f"\"{sentence.strip()[:60]}...\"",
                )
        lowered = text.lower()
        for phrase, instead in self.rules.words_to_avoid.items():
            if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", lowered):
                self.warning(path, step, "plain-language", f"avoid \"{phrase}\": {instead}")

    def _check_graph(self, library: Library, guide: Guide, path: Path) -> None:
        step_ids = {s.id for s in guide.steps}

        def targets(step: Step) -> list[str]:
            if step.question is not None:
                return [choice.next for choice in step.question.choices]
            return [guide.next_of(step.id)]

        for step in guide.steps:
            for target in targets(step):
                if target in (END, HANDOFF):
                    continue
                if target.startswith(GUIDE_PREFIX):
                    other = target.removeprefix(GUIDE_PREFIX)
                    if other not in library.guides:
                        self.error(path, step.id, "dead-target", f"'{target}': no guide '{other}' in the library")
                    elif other == guide.id:
                        self.error(path, step.id, "dead-target", f"'{target}' restarts the same guide")
                elif target not in step_ids:
                    self.error(path, step.id, "dead-target", f"'{target}' is not a step of this guide")
                elif target == step.id:
                    self.error(path, step.id, "dead-target", "the step leads to itself")

        reached: set[str] = set()
        todo = [guide.steps[0].id]
        while todo:
            current = todo.pop()
            if current in reached or current not in step_ids:
                continue
            reached.add(current)
            todo.extend(targets(guide.step(current)))
        for step in guide.steps:
            if step.id not in reached:
                self.error(path, step.id, "unreachable", "no path from the first step leads here")

    # -- the library as a whole ------------------------------------------------------------------

    def _check_ambiguity(self, library: Library) -> None:
        # for_intent can only start one guide per (intent, service): the others need an entry guide.
        groups: dict[tuple[str, str | None], list[Guide]] = {}
        for guide in library.guides.values():
            for intent in guide.intents:
                groups.setdefault((intent, guide.service), []).append(guide)
        for (intent, service), guides in groups.items():
            entries = [g for g in guides if g.entry]
            if len(entries) > 1:
                for g in entries:
                    self.error(
                        library.files[g.id], NO_STEP, "ambiguous",
                        f"several entry guides for intent '{intent}' and service '{service}': "
                        + ", ".join(e.id for e in entries),
                    )
            elif len(guides) > 1 and not entries:
                ids = ", ".join(g.id for g in guides)
                self.error(
                    library.files[guides[1].id], NO_STEP, "ambiguous",
                    f"intent '{intent}' and service '{service}' have several guides ({ids}) and none is "
                    "'entry: true': only the first can ever start",
                )

    def _check_menu(self, library: Library) -> None:
        path = self.paths.menu_file
        if not path.exists():
            self.error(path, NO_STEP, "menu", "no main menu file")
            return
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            self.error(path, NO_STEP, "schema", f"cannot read the menu: {exc}")
            return
        if not isinstance(raw, list):
            self.error(path, NO_STEP, "schema", "the menu is a list of entries (label + guide or intent)")
            return
        if len(raw) > self.rules.menu_max_entries:
            self.error(path, NO_STEP, "menu", f"{len(raw)} entries (max {self.rules.menu_max_entries})")
        lines: list[str] = []
        for number, entry in enumerate(raw, start=1):
            where = f"entry{number}"
            if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
                self.error(path, where, "schema", "an entry needs a 'label' and a 'guide' or an 'intent'")
                continue
            label = entry["label"]
            lines.append(f"{number} {label}")
            if len(label) > self.rules.menu_max_label_chars:
                self.error(
                    path, where, "menu",
                    f"label \"{label}\" is {len(label)} characters (max {self.rules.menu_max_label_chars})",
                )
            guide_id, intent = entry.get("guide"), entry.get("intent")
            if (guide_id is None) == (intent is None):
                self.error(path, where, "schema", "an entry leads to exactly one of 'guide' or 'intent'")
            elif guide_id is not None and guide_id not in library.guides:
                self.error(path, where, "dead-target", f"no guide '{guide_id}' in the library")
            elif intent is not None and library.for_intent(intent) is None and not library.services_for(intent):
                self.error(path, where, "dead-target", f"intent '{intent}' has no guide")
        header = self._messages_text("menu_header")
        menu_sms = "\n".join(([header] if header else []) + lines)
        self._check_sms(path, NO_STEP, menu_sms)
        # With a guide in progress the engine shows "0 Reprendre mon guide" under a shorter header.
        resume = self._messages_text("menu_resume")
        if header and resume and library.guides and count_segments(menu_sms).segments == 1:
            longest = max(library.guides.values(), key=lambda g: len(g.title))
            resume_header = self._messages_text("menu_header_resume") or header
            with_resume = "\n".join([resume_header, "0 " + resume.replace("{title}", longest.title), *lines])
            sms = count_segments(with_resume)
            if sms.segments > 1:
                self.warning(
                    path, NO_STEP, "length",
                    f"with the resume line for \"{longest.title}\" the menu takes {sms.segments} SMS "
                    f"({sms.units} characters)",
                )

    def _check_coverage(self, library: Library) -> None:
        path = self.paths.coverage_file
        if not path.exists():
            self.error(path, NO_STEP, "coverage", "no coverage file")
            return
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        needs: dict[str, list[str | None]] = raw.get("coverage") or {}
        none_needed: list[str] = raw.get("no_guide") or []
        for intent in self.known_intents:
            if intent not in needs and intent not in none_needed:
                self.error(path, intent, "coverage", f"intent '{intent}' is neither in 'coverage' nor in 'no_guide'")
        for intent, services in needs.items():
            if self.known_intents and intent not in self.known_intents:
                self.error(path, intent, "coverage", f"unknown intent '{intent}'")
                continue
            for service in services or [None]:
                if library.for_intent(intent, service) is None:
                    which = f"service '{service}'" if service else "no service"
                    self.error(path, intent, "coverage", f"no guide starts for intent '{intent}' with {which}")
            reachable_without_site = library.for_intent(intent) is not None or bool(library.services_for(intent))
            if None not in (services or [None]) and not reachable_without_site:
                self.error(path, intent, "coverage", f"intent '{intent}' without a service leads nowhere")
            self._check_service_question(library, path, intent)

    def _check_service_question(self, library: Library, path: Path, intent: str) -> None:
        """The engine's "which site?" question lists every site with a guide for the intent: one SMS."""
        header = self._messages_text("ask_service")
        services = library.services_for(intent)
        if header is None or library.for_intent(intent) is not None or len(services) < 2:
            return
        labels = self._messages_table("services")
        lines = [f"{n} {labels.get(s, s)}" for n, s in enumerate(services, start=1)]
        self._check_sms(path, intent, "\n".join([header, *lines]))

    # -- the bot's own texts ---------------------------------------------------------------------

    def _messages_text(self, key: str) -> str | None:
        path = self.paths.messages_dir / "fr.yml"
        if not path.exists():
            return None
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        value = raw.get(key)
        return value if isinstance(value, str) else None

    def _messages_table(self, key: str) -> dict[str, str]:
        path = self.paths.messages_dir / "fr.yml"
        if not path.exists():
            return {}
        value = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(key)
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def _check_messages(self, library: Library) -> None:
        if not self.paths.messages_dir.is_dir():
            return
        titles = [g.title for g in library.guides.values()] or ["Titre"]
        for path in sorted(self.paths.messages_dir.glob("*.yml")):
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                self.error(path, NO_STEP, "schema", f"cannot read the messages: {exc}")
                continue
            for key, value in _flatten(raw):
                if not isinstance(value, str):
                    self.error(path, key, "schema", "a message is a text")
                    continue
                for sample in self._formatted(value, titles):
                    if sample is None:
                        self.error(path, key, "schema", "malformed {placeholder}")
                        break
                    before = len(self.report.findings)
                    self._check_sms(path, key, sample)
                    if len(self.report.findings) > before:
                        break  # one finding per text is enough
                self._check_plain_language(path, key, value)

    def _formatted(self, template: str, titles: list[str]) -> list[str | None]:
        """``template`` filled with long sample values; with every guide title when it shows one."""
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        except ValueError:
            return [None]
        samples, default = self.rules.placeholder_samples, self.rules.default_placeholder_sample
        values = {name: samples.get(name, default) for name in fields}
        variants = [dict(values, title=t) for t in titles] if "title" in fields else [values]
        try:
            return [template.format(**v) for v in variants]
        except (KeyError, IndexError, ValueError):
            return [None]


def _flatten(raw: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, name + "."))
        else:
            items.append((name, value))
    return items


def _load_contract(path: Path) -> tuple[list[str], set[str]]:
    """Intent names and service values of the NLU contract; empty when the file is absent."""
    if not path.exists():
        return [], set()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    intents = list((raw.get("intents") or {}).keys())
    services = set(((raw.get("entities") or {}).get("service") or {}).get("values") or [])
    return intents, services


def _show(characters: list[str]) -> str:
    return ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in characters)


def check_library(paths: CheckPaths | None = None, base: Path | None = None) -> Report:
    """Lint the library at ``paths``; file names in findings are relative to ``base`` when given."""
    return _Checker(paths or CheckPaths(), base).run()


def main(argv: list[str] | None = None) -> None:
    from flows.cli import app

    app(args=["check", *(sys.argv[1:] if argv is None else argv)], prog_name="python -m flows.check")


if __name__ == "__main__":
    main()
