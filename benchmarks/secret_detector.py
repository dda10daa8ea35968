"""Secret detector: precision and recall per kind on the labelled set, and its throughput.

    .venv/bin/python benchmarks/secret_detector.py [--data tests/privacy/labelled_secrets.yml]

Precision/recall: a found secret counts when its kind is right and its span overlaps the labelled
one (bot/privacy/evaluation.py). "Leaked" counts labelled secrets whose characters are still in the
redacted text whatever kind was given. Throughput: find_secrets + redact over every message of the
set, repeated for at least 2 s on one core, in-process (no I/O). Exits 1 if a target is missed:
recall >= 0.95 on nir, card and iban, no redaction of a negative message.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.privacy import redact  # noqa: E402
from bot.privacy.evaluation import LabelledMessage, Scores, load_labelled, score  # noqa: E402

TARGET_RECALL = {"nir": 0.95, "card": 0.95, "iban": 0.95}


def _print_scores(title: str, scores: Scores) -> None:
    print(f"\n{title}: {scores.messages} messages, {scores.secrets} secrets, {scores.negatives} without secret")
    print(f"  {'kind':<11} {'expected':>8} {'found':>6} {'precision':>9} {'recall':>7}")
    for kind, kind_score in scores.per_kind.items():
        if kind_score.expected or kind_score.found:
            print(
                f"  {kind:<11} {kind_score.expected:>8} {kind_score.found:>6} {kind_score.precision:>9.3f}"
                f" {kind_score.recall:>7.3f}"
            )
    exact = scores.exact_spans / scores.secrets if scores.secrets else 1.0
    print(f"  exact spans: {scores.exact_spans}/{scores.secrets} ({exact:.3f})")
    print(f"  secrets leaked after redact(): {len(scores.leaked)}/{scores.secrets}")
    for text, kind, value in scores.leaked:
        print(f"    leaked {kind} {value!r} in {text!r}")
    print(f"  negative messages redacted: {len(scores.negatives_redacted)}/{scores.negatives}")
    for text in scores.negatives_redacted:
        print(f"    redacted {text!r} -> {redact(text).text!r}")


def _throughput(messages: list[LabelledMessage]) -> tuple[float, int]:
    texts = [m.text for m in messages]
    for text in texts:  # warm-up: compiled patterns, YAML placeholders
        redact(text)
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < 2.0:
        for text in texts:
            redact(text)
        count += len(texts)
    return count / (time.perf_counter() - started), count


def _worst_cases() -> dict[str, str]:
    rng = random.Random(8)
    return {
        "10 kB of digits in pairs": " ".join(f"{rng.randint(0, 99):02d}" for _ in range(3400))[:10_000],
        "10 kB of one digit run": "7" * 10_000,
        "10 kB of 'mdp c code '": ("mdp c code " * 1000)[:10_000],
        "10 kB of binary garbage": bytes(rng.randrange(256) for _ in range(10_000)).decode("latin-1"),
        "10 kB of IBAN-like text": ("FR76 " + "1234 " * 2000)[:10_000],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "tests/privacy/labelled_secrets.yml"))
    args = parser.parse_args(argv)
    messages = load_labelled(args.data)
    print(f"labelled set: {args.data}")
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, {platform.machine()},"
        f" {os.cpu_count()} CPUs, one core used"
    )

    overall = score(messages)
    _print_scores("all messages", overall)
    # Batches written after the rules (tests/privacy/generate_labelled_secrets.py): "holdout" was used
    # to fix the rules once; "holdout2" was written when the rules were final and never tuned on.
    for batch, title in (
        ("holdout", "of which holdout (written after the first rules; the rules were then fixed on it)"),
        ("holdout2", "of which holdout2 (written after the final rules, never tuned on)"),
    ):
        subset = [m for m in messages if m.tag.split("/")[0] == batch]
        if subset:
            _print_scores(title, score(subset))

    rate, count = _throughput(messages)
    print(
        f"\nthroughput: {rate:,.0f} messages/s (find_secrets + redact, {count} messages of the set, "
        f"mean {sum(len(m.text) for m in messages) / len(messages):.0f} chars)"
    )
    for name, text in _worst_cases().items():
        started = time.perf_counter()
        redact(text)
        print(f"  {name}: {1000 * (time.perf_counter() - started):.1f} ms")

    failures = [
        f"recall {kind} {overall.per_kind[kind].recall:.3f} < {target}"
        for kind, target in TARGET_RECALL.items()
        if overall.per_kind[kind].recall < target
    ]
    if overall.negatives_redacted:
        failures.append(f"{len(overall.negatives_redacted)} negative messages redacted")
    print(
        "\ntargets (recall >= 0.95 on nir, card, iban; no negative redacted):",
        "met" if not failures else "MISSED: " + "; ".join(failures),
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
