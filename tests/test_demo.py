"""`relais demo`, the README's run command: one command from a fresh folder to a working simulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

RELAIS = Path(sys.executable).with_name("relais")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_relais_demo_answers_a_resident_in_the_simulator_from_an_empty_folder(tmp_path):
    port = _free_port()
    data_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    server = subprocess.Popen(
        [str(RELAIS), "demo", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the demo did not answer /healthz within 120 s"
            time.sleep(0.5)

        assert "Simulateur SMS" in httpx.get(f"{base}/simulator").text
        answer = httpx.post(f"{base}/simulator/api/messages",
                            json={"from": "+33612345678", "text": "jai oublie mon code caf"}, timeout=30)
        replies = answer.json()["replies"]
        texts = [r["text"] for r in replies]
        assert any(t.startswith("1/") and "caf.fr" in t for t in texts), texts
        assert all(r["segments"] == 1 and r["encoding"] == "GSM-7" for r in replies), replies
        # The first-contact information SMS points at this demo's own privacy notice.
        assert any(f"{base}/confidentialite" in t for t in texts), texts
        assert httpx.get(f"{base}/confidentialite").status_code == 200
        assert (data_dir / "relais-demo.sqlite3").exists()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert f"{base}/simulator" in output
    assert "demo@relais.local / demo-relais-2026" in output
