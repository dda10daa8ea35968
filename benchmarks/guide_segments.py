"""Segments per SMS over every SMS the guide library can send.

How it is measured: each guide of flows/guides is loaded with the project's loader; every step is
rendered with flows.render.step_sms (the exact text the engine sends: "N/T text link" plus the
question and its numbered choices), and every guide's closing question (its own, or the default
"guide_closing" of flows/messages/fr.yml) is added. Each text is measured as written with
bot.sms.gsm7.count_segments (160 septets for one GSM-7 segment, 153 per part beyond; 70/67 for
UCS-2), so a character outside GSM-7 counts as UCS-2 here even though bot.sms.gsm7.prepare would
transliterate it on sending; the number of texts prepare would change is printed too.
The intro SMS sent when a guide starts ("guide_intro" with the guide's title) and the main menu
are measured apart, since they are the engine's texts around the library.

Targets: >= 98% of SMS in one segment, average <= 1.05 segments, 0 UCS-2.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.sms.gsm7 import SmsText, count_segments, prepare  # noqa: E402
from flows.library import load_library  # noqa: E402
from flows.render import step_sms  # noqa: E402
from flows.texts import load_texts  # noqa: E402


def describe(name: str, measured: list[SmsText]) -> tuple[float, float, int]:
    count = len(measured)
    one = sum(1 for sms in measured if sms.segments == 1)
    ucs2 = sum(1 for sms in measured if sms.encoding == "UCS-2")
    average = sum(sms.segments for sms in measured) / count if count else 0.0
    share = one / count if count else 0.0
    longest = max((sms.units for sms in measured), default=0)
    print(f"{name}: {count} SMS, one segment {share:.1%}, average {average:.3f} segments, "
          f"UCS-2 {ucs2}, longest {longest} characters")
    return share, average, ucs2


def main() -> int:
    library = load_library()
    texts = load_texts("fr")
    raw_texts: list[str] = []
    for guide in library.guides.values():
        raw_texts.extend(step_sms(guide, step) for step in guide.steps)
        raw_texts.append(guide.closing or texts("guide_closing"))
    library_sms = [count_segments(text) for text in raw_texts]
    changed = sum(1 for text in raw_texts if prepare(text).text != text)
    intro_sms = [
        count_segments(texts("guide_intro", title=g.title, count=len(g.steps)) if len(g.steps) > 1
                       else texts("guide_intro_single", title=g.title))
        for g in library.guides.values()
    ]
    menu = "\n".join([texts("menu_header")] + [f"{n} {e.label}" for n, e in enumerate(library.menu, 1)])

    print(__doc__.split("\n\n")[1].replace("\n", " "))
    print(f"library: {len(library.guides)} guides")
    share, average, ucs2 = describe("steps + closings", library_sms)
    print(f"texts the GSM-7 encoder would rewrite before sending: {changed}")
    describe("intro SMS (engine text with each title)", intro_sms)
    describe("main menu", [count_segments(menu)])
    ok = share >= 0.98 and average <= 1.05 and ucs2 == 0
    print(f"targets (>= 98% one segment, average <= 1.05, 0 UCS-2): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
