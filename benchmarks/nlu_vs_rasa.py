"""Side by side: Relais' embedded NLU and Rasa 3.6 DIET, same training data, same held-out split, same harness.

Not part of CI: it needs Python 3.10 and a 2.7 GB Rasa install (built here on first run, ~2 min).

1. Builds a Python 3.10 venv with rasa==3.6.21 if missing (pins: benchmarks/nlu_vs_rasa.lock.txt).
2. Trains both on nlu/data (without nlu/data/test): Rasa with nlu/rasa/config.yml (`rasa train nlu`), ours
   with `relais nlu train`; each in its own process, wall time and peak RSS measured.
3. Serves both on loopback, one worker each: `rasa run --enable-api`, and our /model/parse router under
   uvicorn. Scores both through the same HTTP client on the held-out split (Rasa's `nlu_fallback` is
   read as its best real intent, as Relais' Rasa backend does): accuracy, macro-F1, out_of_scope
   recall, service F1, p50/p99 latency (sequential), throughput (8 concurrent clients), server RSS.
4. Proves Relais' `rasa` backend end to end against the real Rasa server, then stops Rasa and shows the
   logged fall back to the embedded model.

    .venv/bin/python benchmarks/nlu_vs_rasa.py [--venv DIR] [--python PYTHON3.10] [--keep]
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu import model_store  # noqa: E402
from nlu.evaluation import Evaluation, Prediction  # noqa: E402
from nlu.model_store import load_model  # noqa: E402
from nlu.rasa_backend import RASA_FALLBACK_INTENT, RasaParser  # noqa: E402
from nlu.result import IntentScore, ParseResult  # noqa: E402
from nlu.settings import DEFAULT_DATA_DIR  # noqa: E402
from nlu.training_data import load  # noqa: E402

RASA_VERSION = "3.6.21"
LOCK_FILE = Path(__file__).with_name("nlu_vs_rasa.lock.txt")
DEFAULT_VENV = Path.home() / ".cache" / "relais" / "rasa-venv"
CONCURRENCY = 8
THROUGHPUT_REQUESTS = 2000

OUR_SERVER = """
import sys, uvicorn
from pathlib import Path
from fastapi import FastAPI
from nlu.api import router
from nlu.parser import build_parser
from nlu.settings import NluSettings
app = FastAPI()
app.include_router(router)
app.state.parser = build_parser(NluSettings(model_dir=Path(sys.argv[1]), train_if_needed=False))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def say(message: str) -> None:
    print(message, flush=True)


def find_python310(explicit: str | None) -> str:
    candidates = [explicit] if explicit else []
    candidates += [os.environ.get("RELAIS_PYTHON310"), "python3.10"]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.10*/bin/python3.10")), reverse=True)
    candidates += ["/usr/bin/python3.10", "/usr/local/bin/python3.10"]
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.startswith("Python 3.10"):
            return candidate
    raise SystemExit("no working python3.10 found (pass --python or set RELAIS_PYTHON310)")


def ensure_rasa(venv: Path, python: str | None) -> Path:
    rasa = venv / "bin" / "rasa"
    if rasa.exists():
        return rasa
    interpreter = find_python310(python)
    say(f"building {venv} with {interpreter} and rasa=={RASA_VERSION} (a few minutes, ~2.7 GB)")
    started = time.perf_counter()
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, f"rasa=={RASA_VERSION}", "-c", str(LOCK_FILE)], check=True)
    say(f"  installed in {time.perf_counter() - started:.0f} s")
    return rasa


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_measured(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a child process run to completion."""
    script = (
        "import json, resource, subprocess, sys, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True); "
        "w = time.perf_counter() - t; "
        "print(json.dumps({'code': r.returncode, 'wall': w, "
        "'peak_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 'err': r.stderr[-3000:]}))"
    )
    out = subprocess.run([sys.executable, "-c", script, *command], env=env, cwd=cwd, capture_output=True,
                         text=True, check=True)
    result = json.loads(out.stdout)
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command[:3])}... failed:\n{result['err']}")
    return result["wall"], result["peak_kb"] / 1024


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def wait_ready(check, process: subprocess.Popen, what: str, timeout: float = 180.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode}")
        try:
            if check():
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{what} not ready after {timeout:.0f} s")


def read_answer(answer: dict, text: str) -> tuple[ParseResult, bool]:
    """The parse as Relais reads it; True when Rasa answered nlu_fallback (then its best real intent)."""
    result = ParseResult.from_rasa(answer)
    if result.intent.name != RASA_FALLBACK_INTENT:
        return result, False
    ranking = [s for s in result.intent_ranking if s.name != RASA_FALLBACK_INTENT]
    best = ranking[0] if ranking else IntentScore("out_of_scope", 0.0)
    return ParseResult(text=text, intent=best, entities=result.entities, intent_ranking=ranking), True


def score_server(url: str, held_out, pid: int) -> dict:
    client = httpx.Client(timeout=30.0)
    endpoint = f"{url}/model/parse"
    texts = [e.text for e in held_out.examples]
    for text in texts[:30]:  # warm-up
        client.post(endpoint, json={"text": text})
    latencies, predictions, fallbacks = [], [], 0
    for example in held_out.examples:
        started = time.perf_counter()
        response = client.post(endpoint, json={"text": example.text})
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        result, fell_back = read_answer(response.json(), example.text)
        fallbacks += fell_back
        gold = {held_out.canonical(e) for e in example.entities if e.entity == "service"}
        predictions.append(Prediction(example, result, gold))
    evaluation = Evaluation(predictions)

    def one(i: int) -> None:
        with httpx.Client(timeout=30.0) as c:
            for j in range(i, THROUGHPUT_REQUESTS, CONCURRENCY):
                c.post(endpoint, json={"text": texts[j % len(texts)]}).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, range(CONCURRENCY)))
    throughput = THROUGHPUT_REQUESTS / (time.perf_counter() - started)
    client.close()
    latencies.sort()
    return {
        "accuracy": evaluation.accuracy,
        "macro_f1": evaluation.macro_f1,
        "out_of_scope_recall": evaluation.out_of_scope_recall,
        "service_f1": evaluation.service_scores()["f1"],
        "errors": len(evaluation.errors()),
        "nlu_fallback_answers": fallbacks,
        "latency_p50_ms": statistics.median(latencies),
        "latency_p99_ms": latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)],
        "throughput_rps": throughput,
        "server_rss_mb": rss_mb(pid),
    }


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def prove_rasa_backend(rasa_url: str, model_dir: Path, held_out, rasa_process: subprocess.Popen) -> dict:
    """Relais' RasaParser against the real server, then with the server gone."""
    embedded = load_model(next(model_dir.glob("embedded-*.joblib")))
    parser = RasaParser(rasa_url, embedded.parse, timeout_seconds=1.5, retry_after_seconds=0.0)
    results = [parser.parse(e.text) for e in held_out.examples]
    fallbacks_while_up = parser.fallbacks
    correct = sum(r.intent.name == e.intent for r, e in zip(results, held_out.examples, strict=True))
    stop(rasa_process)
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("nlu.rasa_backend").addHandler(handler)
    after = parser.parse("code caf bloké")
    return {
        "answered_by_rasa": len(results) - fallbacks_while_up,
        "fallbacks_while_up": fallbacks_while_up,
        "fallbacks_after_rasa_stopped": parser.fallbacks - fallbacks_while_up,
        "accuracy_through_backend": correct / len(results),
        "after_rasa_stopped": {"intent": after.intent.name, "service": after.service,
                               "same_as_embedded": after == embedded.parse("code caf bloké"),
                               "log": records[-1] if records else None},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=Path(os.environ.get("RELAIS_RASA_VENV", DEFAULT_VENV)))
    parser.add_argument("--python", help="a Python 3.10 interpreter for the Rasa venv")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (models, logs)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu_vs_rasa.json")
    args = parser.parse_args()

    rasa = ensure_rasa(args.venv, args.python)
    work = Path(tempfile.mkdtemp(prefix="relais-nlu-vs-rasa-"))
    (work / "home").mkdir()
    data = work / "data"
    data.mkdir()
    for file in model_store.training_files(DEFAULT_DATA_DIR):  # Rasa reads folders recursively: no test/
        shutil.copy(file, data / file.name)
    held_out = load(DEFAULT_DATA_DIR / model_store.TEST_FOLDER)
    held_out.synonyms = {**model_store.load_training_data(DEFAULT_DATA_DIR).synonyms, **held_out.synonyms}
    rasa_env = {**os.environ, "HOME": str(work / "home"), "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    our_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes: list[subprocess.Popen] = []
    report: dict = {"rasa_version": RASA_VERSION, "held_out_messages": len(held_out.examples),
                    "concurrency_for_throughput": CONCURRENCY}
    try:
        say("training Rasa DIET (nlu/rasa/config.yml)...")
        rasa_train = run_measured(
            [str(rasa), "train", "nlu", "--config", str(ROOT / "nlu/rasa/config.yml"), "--nlu", str(data),
             "--fixed-model-name", "relais-nlu", "--out", str(work / "rasa-models")], rasa_env, work)
        say(f"  {rasa_train[0]:.1f} s, peak {rasa_train[1]:.0f} MB")
        say("training the embedded model (relais nlu train)...")
        our_train = run_measured(
            [sys.executable, "-c", "from nlu.cli import app; app()", "train", "--model-dir", str(work / "ours")],
            our_env, ROOT)
        say(f"  {our_train[0]:.1f} s, peak {our_train[1]:.0f} MB")

        rasa_port, our_port = free_port(), free_port()
        rasa_url, our_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{our_port}"
        rasa_log = (work / "rasa-server.log").open("w")
        rasa_process = subprocess.Popen(
            [str(rasa), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(rasa_port),
             "-m", str(work / "rasa-models" / "relais-nlu.tar.gz")],
            env=rasa_env, cwd=work, stdout=rasa_log, stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(rasa_process)
        our_process = subprocess.Popen(
            [sys.executable, "-c", OUR_SERVER, str(work / "ours"), str(our_port)],
            env=our_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        processes.append(our_process)
        rasa_ready = wait_ready(lambda: httpx.get(rasa_url, timeout=2).text.startswith("Hello from Rasa"),
                                rasa_process, "rasa run")
        our_ready = wait_ready(
            lambda: httpx.post(f"{our_url}/model/parse", json={"text": "bonjour"}, timeout=2).status_code == 200,
            our_process, "relais /model/parse")
        say(f"servers ready: Rasa in {rasa_ready:.1f} s, Relais in {our_ready:.1f} s; scoring...")
        report["rasa"] = {**score_server(rasa_url, held_out, rasa_process.pid), "training_seconds": rasa_train[0],
                          "training_peak_rss_mb": rasa_train[1], "server_ready_seconds": rasa_ready}
        report["relais_embedded"] = {**score_server(our_url, held_out, our_process.pid),
                                     "training_seconds": our_train[0], "training_peak_rss_mb": our_train[1],
                                     "server_ready_seconds": our_ready}
        say("proving the `rasa` backend end to end...")
        report["rasa_backend_end_to_end"] = prove_rasa_backend(rasa_url, work / "ours", held_out, rasa_process)
    finally:
        for process in processes:
            stop(process)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"work folder kept: {work}")

    rows = [("accuracy", "{:.4f}"), ("macro_f1", "{:.4f}"), ("out_of_scope_recall", "{:.4f}"),
            ("service_f1", "{:.4f}"), ("errors", "{}"), ("nlu_fallback_answers", "{}"),
            ("latency_p50_ms", "{:.2f}"), ("latency_p99_ms", "{:.2f}"), ("throughput_rps", "{:.0f}"),
            ("server_rss_mb", "{:.0f}"), ("server_ready_seconds", "{:.1f}"), ("training_seconds", "{:.1f}"),
            ("training_peak_rss_mb", "{:.0f}")]
    say("")
    say(f"{'':24}{'Rasa ' + RASA_VERSION + ' DIET':>20}{'Relais embedded':>20}")
    for name, fmt in rows:
        say(f"{name:24}{fmt.format(report['rasa'][name]):>20}{fmt.format(report['relais_embedded'][name]):>20}")
    say("")
    say(f"Held-out split: {len(held_out.examples)} messages through POST /model/parse on loopback, one server "
        f"worker each; latency sequential from one client, throughput with {CONCURRENCY} concurrent clients "
        f"({THROUGHPUT_REQUESTS} requests); RSS from /proc; training wall time and peak RSS of the CLI process.")
    say("Rasa backend end to end: " + json.dumps(report["rasa_backend_end_to_end"], ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"written: {args.out}")
    ours, theirs = report["relais_embedded"], report["rasa"]
    beats = ours["accuracy"] >= theirs["accuracy"] and ours["latency_p50_ms"] < theirs["latency_p50_ms"]
    say("Relais beats Rasa on accuracy and latency" if beats else "Relais does NOT beat Rasa on both")
    return 0 if beats else 1


if __name__ == "__main__":
    sys.exit(main())
