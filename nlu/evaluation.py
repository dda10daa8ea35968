"""Scoring a parser on a labelled Rasa-format set: the figures `relais nlu test` and the benchmarks print.

Intent figures are scikit-learn's (accuracy, macro-F1, per-intent precision/recall/F1). The `service`
entity is scored on canonical values per message (a predicted value counts if the message is annotated
with it, whatever the span), micro-averaged over the set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from nlu.contract import OUT_OF_SCOPE
from nlu.result import ParseResult
from nlu.training_data import Example, TrainingData


@dataclass
class Prediction:
    example: Example
    result: ParseResult
    gold_services: set[str]

    @property
    def correct(self) -> bool:
        return self.result.intent.name == self.example.intent

    @property
    def predicted_services(self) -> set[str]:
        return {e.value for e in self.result.entities if e.entity == "service"}


@dataclass
class Evaluation:
    predictions: list[Prediction]
    labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.labels:
            self.labels = sorted({p.example.intent for p in self.predictions}
                                 | {p.result.intent.name for p in self.predictions})

    @property
    def gold(self) -> list[str]:
        return [p.example.intent for p in self.predictions]

    @property
    def predicted(self) -> list[str]:
        return [p.result.intent.name for p in self.predictions]

    @property
    def accuracy(self) -> float:
        return float(accuracy_score(self.gold, self.predicted))

    @property
    def macro_f1(self) -> float:
        gold_labels = sorted(set(self.gold))
        return float(f1_score(self.gold, self.predicted, labels=gold_labels, average="macro", zero_division=0))

    @property
    def out_of_scope_recall(self) -> float | None:
        relevant = [p for p in self.predictions if p.example.intent == OUT_OF_SCOPE]
        return sum(p.correct for p in relevant) / len(relevant) if relevant else None

    def service_counts(self) -> tuple[int, int, int]:
        tp = fp = fn = 0
        for p in self.predictions:
            tp += len(p.predicted_services & p.gold_services)
            fp += len(p.predicted_services - p.gold_services)
            fn += len(p.gold_services - p.predicted_services)
        return tp, fp, fn

    def service_scores(self) -> dict[str, float]:
        tp, fp, fn = self.service_counts()
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}

    def intent_report(self) -> dict[str, Any]:
        """Rasa's ``intent_report.json`` shape: scikit-learn's classification report as a dict."""
        gold_labels = sorted(set(self.gold))
        report = classification_report(
            self.gold, self.predicted, labels=gold_labels, output_dict=True, zero_division=0
        )
        report["accuracy"] = self.accuracy
        return report

    def errors(self) -> list[dict[str, Any]]:
        return [
            {
                "text": p.example.text,
                "intent": p.example.intent,
                "intent_prediction": {"name": p.result.intent.name, "confidence": p.result.intent.confidence},
                "intent_ranking": [{"name": s.name, "confidence": s.confidence} for s in p.result.intent_ranking[:3]],
            }
            for p in self.predictions if not p.correct
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "examples": len(self.predictions),
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "out_of_scope_recall": None if self.out_of_scope_recall is None else round(self.out_of_scope_recall, 4),
            "service": {k: round(v, 4) if isinstance(v, float) else v for k, v in self.service_scores().items()},
            "errors": len(self.errors()),
        }

    def coverage_at(self, threshold: float) -> dict[str, float]:
        """Share of messages answered at or above ``threshold``, and the accuracy of those answers."""
        kept = [p for p in self.predictions if p.result.intent.confidence >= threshold]
        return {
            "threshold": threshold,
            "answered": len(kept) / len(self.predictions) if self.predictions else 0.0,
            "accuracy_when_answered": sum(p.correct for p in kept) / len(kept) if kept else 0.0,
        }


def evaluate(parse: Callable[[str], ParseResult], data: TrainingData) -> Evaluation:
    predictions = []
    for example in data.examples:
        gold = {data.canonical(e) for e in example.entities if e.entity == "service"}
        predictions.append(Prediction(example, parse(example.text), gold))
    return Evaluation(predictions)


def write_results(evaluation: Evaluation, out_dir: Path) -> dict[str, Path]:
    """Write the report files (Rasa's names where Rasa has one) and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out_dir / "summary.json",
        "report": out_dir / "intent_report.json",
        "errors": out_dir / "intent_errors.json",
        "confusion_matrix": out_dir / "intent_confusion_matrix.png",
    }
    paths["summary"].write_text(json.dumps(evaluation.summary(), indent=2) + "\n", encoding="utf-8")
    paths["report"].write_text(json.dumps(evaluation.intent_report(), indent=2) + "\n", encoding="utf-8")
    paths["errors"].write_text(
        json.dumps(evaluation.errors(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    plot_confusion_matrix(evaluation, paths["confusion_matrix"])
    return paths


def plot_confusion_matrix(evaluation: Evaluation, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    labels = evaluation.labels
    matrix = confusion_matrix(evaluation.gold, evaluation.predicted, labels=labels)
    size = max(6.0, 0.45 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels=labels, rotation=90, fontsize=8)
    axes.set_yticks(range(len(labels)), labels=labels, fontsize=8)
    axes.set_xlabel("predicted intent")
    axes.set_ylabel("true intent")
    axes.set_title(f"Intent confusion matrix (accuracy {evaluation.accuracy:.3f}, n={len(evaluation.predictions)})")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in range(len(labels)):
        for col in range(len(labels)):
            if matrix[row, col]:
                colour = "white" if matrix[row, col] > threshold else "black"
                axes.text(col, row, str(matrix[row, col]), ha="center", va="center", fontsize=7, color=colour)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
