"""The soak benchmark (benchmarks/soak.py) for one minute: 20 mixed messages/s with a SIGKILL, a provider
outage, provider 500s, timeouts and late accepts, and two database outages. Nothing lost, nothing doubled.
Latency and memory are reported by the benchmark, not asserted here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def _soak_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("relais_soak", SOAK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_one_minute_of_soak_with_faults_loses_and_doubles_nothing(fresh_database_url, tmp_path):
    figures = _soak_module().run(fresh_database_url, duration=60, rate=20, workdir=tmp_path, quiet=True)

    context = f"{figures}; server log {tmp_path / 'server.log'}"
    assert figures.aborted == "", context
    assert figures.sigkills == 1 and figures.database_outages == 2, context
    assert figures.provider_faults.get("500", 0) > 0 and figures.provider_faults.get("hang", 0) > 0, context
    assert figures.messages == 1200 and figures.acked == figures.messages and figures.unacked == 0, context
    assert figures.lost == 0, context
    assert figures.duplicate_replies == 0, context
    assert figures.replies >= figures.acked - figures.unanswered, context
