"""Replay realistic multi-turn conversations and count how many end where they should.

Each fixture in tests/conversations/replay/*.yml is a resident's turns and the expected end:
the right guide started, or the mediator queue. The turns go through the real path (the
simulator API in-process: NLU, engine, outbox, GSM-7) on a fresh SQLite database.
Targets: >= 95% reach the right place; >= 98% of the bot's SMS are one segment.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import AuditEntry, Conversation, Resident, Ticket  # noqa: E402

FIXTURES = ROOT / "tests" / "conversations" / "replay"


def load_conversations() -> list[dict]:
    conversations: list[dict] = []
    for path in sorted(FIXTURES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = data["conversations"] if isinstance(data, dict) else data
        conversations.extend(items)
    return conversations


def where_it_ended(session, address: str) -> str:
    resident = session.scalars(select(Resident).where(Resident.address == address)).first()
    if resident is None:
        return "nothing"
    if session.scalars(select(Ticket).where(Ticket.resident_id == resident.id)).first() is not None:
        return "handoff"
    # The guide the resident is in now (a "reprendre" goes back to a paused one), else the last one started.
    conversation = session.scalars(select(Conversation).where(Conversation.resident_id == resident.id)).first()
    if conversation is not None and (conversation.state or {}).get("guide_id"):
        return f"guide:{conversation.state['guide_id']}"
    started = session.scalars(
        select(AuditEntry).where(AuditEntry.resident_id == resident.id, AuditEntry.action == "guide_started")
        .order_by(AuditEntry.id.desc())
    ).first()
    return f"guide:{started.detail}" if started else "nothing"


def main() -> int:
    conversations = load_conversations()
    if not conversations:
        print(f"no conversations in {FIXTURES}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/replay.sqlite3")
        app = create_app(settings, background_jobs=False)
        runtime = app.state.runtime
        upgrade(runtime.db)
        right, segments, sms_count, failures = 0, [], 0, []
        started = time.perf_counter()
        with TestClient(app) as client:
            for index, conversation in enumerate(conversations):
                address = f"+3361{index:07d}"
                for turn in conversation["turns"]:
                    answer = client.post("/simulator/api/messages", json={"from": address, "text": str(turn)})
                    answer.raise_for_status()
                    for reply in answer.json()["replies"]:
                        segments.append(reply["segments"])
                        sms_count += 1
                expect = conversation["expect"]
                wanted = "handoff" if expect.get("handoff") else f"guide:{expect['guide']}"
                with runtime.db.transaction() as session:
                    got = where_it_ended(session, address)
                if got == wanted:
                    right += 1
                else:
                    failures.append((conversation["id"], wanted, got, conversation["turns"]))
        elapsed = time.perf_counter() - started
    total = len(conversations)
    one_segment = sum(1 for s in segments if s == 1)
    print(f"conversations replayed: {total} ({sum(len(c['turns']) for c in conversations)} resident messages)")
    print(f"reached the right guide or the mediator queue: {right}/{total} = {right / total:.1%} (target >= 95%)")
    print(f"bot SMS sent: {sms_count}; one segment: {one_segment / max(sms_count, 1):.1%} (target >= 98%); "
          f"average segments {sum(segments) / max(sms_count, 1):.3f}")
    print(f"wall time {elapsed:.1f} s")
    print("how: every turn POSTed to /simulator/api/messages in-process (embedded NLU, shipped guides), "
          "outcome read from the database: a ticket = mediator queue, else the guide in progress, else the last "
          "guide started.")
    for conversation_id, wanted, got, turns in failures[:40]:
        print(f"  MISS {conversation_id}: wanted {wanted}, got {got}; turns={turns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
