"""Held-out quality and in-process cost of the embedded NLU model.

Prints intent accuracy, macro-F1, out_of_scope recall and `service` F1 on nlu/data/test (never trained
on), the accuracy/coverage trade-off of the confidence threshold, training time, model load time and
resident memory (measured in a fresh Python process), and parse latency p50/p99 (in-process, one
message at a time, 20 passes over the held-out split after a warm-up). Exit code 1 if a target is missed.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu import model_store  # noqa: E402
from nlu.evaluation import evaluate  # noqa: E402
from nlu.settings import DEFAULT_DATA_DIR, NluSettings  # noqa: E402
from nlu.training_data import load  # noqa: E402

PASSES = 20
TARGETS = {  # name: (minimum or maximum, value)
    "accuracy": (">=", 0.92),
    "macro_f1": (">=", 0.90),
    "out_of_scope_recall": (">=", 0.85),
    "service_f1": (">=", 0.90),
    "latency_p50_ms": ("<=", 2.0),
    "latency_p99_ms": ("<=", 10.0),
    "load_seconds": ("<=", 2.0),
    "training_seconds": ("<=", 60.0),
    "rss_loaded_mb": ("<=", 150.0),
}

# Runs in a fresh interpreter so imports, load time and memory are what a starting server pays.
LOAD_PROBE = """
import json, sys, time
def rss_mb(field="VmRSS"):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
t0 = time.perf_counter()
before_imports = rss_mb()
from nlu import model_store
imported = time.perf_counter()
after_imports = rss_mb()
model = model_store.load_model(__import__("pathlib").Path(sys.argv[1]))
loaded = time.perf_counter()
model.parse("code caf bloque")
print(json.dumps({"import_seconds": imported - t0, "load_seconds": loaded - imported,
                  "rss_python_mb": before_imports, "rss_after_imports_mb": after_imports,
                  "rss_loaded_mb": rss_mb(), "peak_rss_mb": rss_mb("VmHWM")}))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def main() -> int:
    held_out = load(DEFAULT_DATA_DIR / model_store.TEST_FOLDER)
    held_out.synonyms = {**model_store.load_training_data(DEFAULT_DATA_DIR).synonyms, **held_out.synonyms}
    with tempfile.TemporaryDirectory() as tmp:
        settings = NluSettings(model_dir=Path(tmp))
        started = time.perf_counter()
        model, path = model_store.train(settings)
        training_wall = time.perf_counter() - started
        probe = json.loads(subprocess.run(
            [sys.executable, "-c", LOAD_PROBE, str(path)], cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout)
        model_file_kb = path.stat().st_size / 1024

    evaluation = evaluate(model.parse, held_out)
    texts = [e.text for e in held_out.examples]
    for text in texts:  # warm-up
        model.parse(text)
    latencies = []
    for _ in range(PASSES):
        for text in texts:
            t0 = time.perf_counter_ns()
            model.parse(text)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)

    service = evaluation.service_scores()
    figures = {
        "accuracy": evaluation.accuracy,
        "macro_f1": evaluation.macro_f1,
        "out_of_scope_recall": evaluation.out_of_scope_recall,
        "service_f1": service["f1"],
        "latency_p50_ms": statistics.median(latencies),
        "latency_p99_ms": percentile(latencies, 99),
        "load_seconds": probe["load_seconds"],
        "training_seconds": training_wall,
        "rss_loaded_mb": probe["rss_loaded_mb"],
    }
    print(f"Held-out split: {len(texts)} messages, {len(set(evaluation.gold))} intents "
          "(nlu/data/test, never trained on)")
    print(f"Training set: {model.examples} examples; machine: {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print()
    print(f"intent accuracy           {evaluation.accuracy:.4f}")
    print(f"intent macro-F1           {evaluation.macro_f1:.4f}")
    print(f"out_of_scope recall       {evaluation.out_of_scope_recall:.4f}")
    print(f"service entity P/R/F1     {service['precision']:.4f} / {service['recall']:.4f} / {service['f1']:.4f}"
          f"  ({service['support']} annotated mentions; values per message, micro-averaged)")
    print(f"misclassified             {len(evaluation.errors())}")
    print()
    print("confidence threshold: share answered directly / accuracy of those (below it: numbered question)")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        c = evaluation.coverage_at(threshold)
        print(f"  {threshold:.1f}   answered {c['answered']:.3f}   accuracy {c['accuracy_when_answered']:.4f}")
    below = [p for p in evaluation.predictions if p.result.intent.confidence < NluSettings().confidence_threshold]
    in_top3 = sum(p.example.intent in [s.name for s in p.result.intent_ranking[:3]] for p in below)
    print(f"  below the default {NluSettings().confidence_threshold}: {len(below)} messages, right intent among "
          f"the top 3 offered for {in_top3}")
    print()
    print(f"parse latency p50         {figures['latency_p50_ms']:.3f} ms")
    print(f"parse latency p99         {figures['latency_p99_ms']:.3f} ms"
          f"  ({len(latencies)} calls: {PASSES} passes over the split, in-process, after a warm-up)")
    print(f"training time             {training_wall:.2f} s  (read + normalise + fit + save, in-process)")
    print(f"model load time           {probe['load_seconds']:.3f} s  (joblib load in a fresh process; "
          f"imports before it {probe['import_seconds']:.2f} s)")
    print(f"resident memory           {probe['rss_loaded_mb']:.0f} MB  (VmRSS of a fresh process after imports and "
          f"load; bare Python {probe['rss_python_mb']:.0f} MB, after imports {probe['rss_after_imports_mb']:.0f} MB)")
    print(f"model file                {model_file_kb:.0f} kB")
    print()
    missed = []
    for name, (op, target) in TARGETS.items():
        value = figures[name]
        ok = value >= target if op == ">=" else value <= target
        missed += [] if ok else [name]
        print(f"  {'ok  ' if ok else 'MISS'} {name:22} {value:10.4f} {op} {target}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
