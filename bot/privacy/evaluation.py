"""Scoring the secret detector against a labelled set of messages (tests and benchmarks share it).

A labelled message lists its secrets as ``{kind, value}``, ``value`` being the exact text of the
secret inside the message. A found secret *matches* an expected one when the kinds are equal and
the spans overlap; per kind, precision = matched found / all found, recall = matched expected /
all expected. Separately, a secret has *leaked* when its digits and letters still appear in the
redacted text, whatever kind the detector gave it: that is what matters for the resident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.privacy.secrets import KINDS, find_secrets, redact

_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


@dataclass(frozen=True)
class ExpectedSecret:
    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    tag: str
    secrets: tuple[ExpectedSecret, ...]

    @property
    def is_negative(self) -> bool:
        return not self.secrets


def load_labelled(path: Path | str) -> list[LabelledMessage]:
    """Read a labelled set; each ``value`` must occur in its message (its first occurrence is used)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    messages = []
    for entry in data["messages"]:
        text = str(entry["text"])
        secrets = []
        for secret in entry.get("secrets") or []:
            value = str(secret["value"])
            start = text.find(value)
            if start < 0:
                raise ValueError(f"{path}: {value!r} is not in {text!r}")
            secrets.append(ExpectedSecret(str(secret["kind"]), start, start + len(value), value))
        messages.append(LabelledMessage(text=text, tag=str(entry.get("tag", "")), secrets=tuple(secrets)))
    return messages


@dataclass
class KindScore:
    expected: int = 0
    found: int = 0
    true_positives_expected: int = 0  # expected secrets matched by a found one of the same kind
    true_positives_found: int = 0  # found secrets matching an expected one of the same kind

    @property
    def precision(self) -> float:
        return self.true_positives_found / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives_expected / self.expected if self.expected else 1.0


@dataclass
class Scores:
    per_kind: dict[str, KindScore] = field(default_factory=lambda: {kind: KindScore() for kind in KINDS})
    messages: int = 0
    negatives: int = 0
    negatives_redacted: list[str] = field(default_factory=list)
    secrets: int = 0
    leaked: list[tuple[str, str, str]] = field(default_factory=list)  # (message, kind, secret value)
    exact_spans: int = 0

    @property
    def leak_free_rate(self) -> float:
        return 1 - len(self.leaked) / self.secrets if self.secrets else 1.0


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def score(messages: Iterable[LabelledMessage]) -> Scores:
    scores = Scores()
    for message in messages:
        scores.messages += 1
        found = find_secrets(message.text)
        if message.is_negative:
            scores.negatives += 1
            if found:
                scores.negatives_redacted.append(message.text)
        for secret in found:
            kind_score = scores.per_kind.setdefault(secret.kind, KindScore())
            kind_score.found += 1
            if any(
                e.kind == secret.kind and _overlaps(e.start, e.end, secret.start, secret.end) for e in message.secrets
            ):
                kind_score.true_positives_found += 1
        redacted_compact = _NOT_ALNUM.sub("", redact(message.text).text)
        for expected in message.secrets:
            scores.secrets += 1
            kind_score = scores.per_kind.setdefault(expected.kind, KindScore())
            kind_score.expected += 1
            if any(s.kind == expected.kind and _overlaps(s.start, s.end, expected.start, expected.end) for s in found):
                kind_score.true_positives_expected += 1
            if any((s.start, s.end) == (expected.start, expected.end) for s in found):
                scores.exact_spans += 1
            if _NOT_ALNUM.sub("", expected.value) in redacted_compact:
                scores.leaked.append((message.text, expected.kind, expected.value))
    return scores
