"""How a step of a guide reads as an SMS: the one place that decides it.

The engine sends exactly these strings and the checker measures exactly these strings, so a
guide that passes ``relais flows check`` sends SMS of the size the checker saw.
"""

from __future__ import annotations

from flows.schema import Guide, Step


def step_sms(guide: Guide, step: Step) -> str:
    """The SMS for one step: its position, its text, its link, then its numbered choices."""
    position = guide.position(step.id)
    lines = [f"{position}/{len(guide.steps)} {step.text.strip()}"]
    if step.link is not None:
        lines[0] += f" {step.link}"
    if step.question is not None:
        lines.append(step.question.text.strip())
        lines.extend(f"{number} {choice.label.strip()}" for number, choice in enumerate(step.question.choices, 1))
    return "\n".join(lines)
