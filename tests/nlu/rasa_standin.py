"""A local stand-in for a Rasa 3.x server's ``POST /model/parse``, answering in Rasa's documented shape
(rasa/docs/static/spec/rasa.yml), or slowly, or wrongly, as a test asks."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def rasa_answer(text: str) -> dict:
    entities = []
    if "caf" in text:
        start = text.index("caf")
        entities.append({"entity": "service", "start": start, "end": start + 3, "confidence_entity": 0.99,
                         "value": "caf", "extractor": "DIETClassifier"})
    return {
        "text": text,
        "intent": {"name": "find_place", "confidence": 0.91},
        "entities": entities,
        "text_tokens": [[0, len(text)]],
        "intent_ranking": [{"name": "find_place", "confidence": 0.91}, {"name": "workshop_info", "confidence": 0.05}],
        "response_selector": {"all_retrieval_intents": [], "default": {"response": {}, "ranking": []}},
    }


@dataclass
class RasaStandIn:
    mode: str = "ok"
    delay_seconds: float = 1.0
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, text: str) -> tuple[int, bytes]:
        mode = self.mode
        if mode == "slow":
            time.sleep(self.delay_seconds)
            return 200, json.dumps(rasa_answer(text)).encode()
        if mode == "error":
            return 500, b'{"version": "3.6.21", "status": "failure", "reason": "ServerError"}'
        if mode == "malformed":
            return 200, b'{"text": "x", "intent": {"name": '
        if mode == "wrong_shape":
            return 200, json.dumps({"text": text, "intent": "find_place", "entities": []}).encode()
        if mode == "not_an_object":
            return 200, b'["find_place", 0.9]'
        if mode == "unknown_intent":
            answer = rasa_answer(text)
            answer["intent"] = {"name": "order_pizza", "confidence": 0.99}
            return 200, json.dumps(answer).encode()
        if mode == "nlu_fallback":
            answer = rasa_answer(text)
            answer["intent"] = {"name": "nlu_fallback", "confidence": 0.3}
            answer["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.3},
                                        {"name": "password_reset", "confidence": 0.26},
                                        {"name": "caf_declaration", "confidence": 0.2}]
            return 200, json.dumps(answer).encode()
        return 200, json.dumps(rasa_answer(text)).encode()

    def start(self) -> RasaStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = b"Hello from Rasa: 3.6.21"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                parsed = urlparse(self.path)
                stand_in.requests.append({"path": parsed.path, "query": parse_qs(parsed.query), "json": payload})
                if parsed.path != "/model/parse":
                    status, body = 404, b'{"status": "failure", "reason": "NotFound"}'
                else:
                    status, body = stand_in.answer(str(payload.get("text", "")))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): exactly what the slow mode is for

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
