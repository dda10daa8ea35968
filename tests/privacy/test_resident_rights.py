"""A resident's rights end to end, on the real database: told on first contact, MES DONNEES, OUBLIER,
and `relais residents export|erase`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.channels.base import InboundMessage
from bot.config import ConfigError, Settings, load_settings
from bot.db.models import (
    AnonymousTicket,
    AuditEntry,
    Conversation,
    Enrolment,
    Mediator,
    Message,
    OutboxItem,
    Reminder,
    Resident,
    Ticket,
    TicketNote,
)
from bot.inbound.pipeline import receive
from bot.outbox.dispatcher import dispatch_due
from bot.privacy.apply import DATA_REQUEST, first_contact_text
from bot.privacy.residents import erase_resident, export_resident, find_resident
from bot.privacy.texts import template_keys, text
from bot.sms.gsm7 import count_segments
from bot.workshops.dates import paris
from bot.workshops.service import enrol
from tests.workshops.helpers import add_resident, add_workshop

NUMBER = "+33612345678"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def sms(body: str, address: str = NUMBER) -> InboundMessage:
    return InboundMessage(channel="sms", address=address, text=body, provider_id=f"SM{next(_ids)}",
                          received_at=datetime.now(UTC), provider="simulator")


def bodies(runtime, outbox_ids: list[int]) -> list[str]:
    with runtime.db.transaction() as session:
        return [session.get(OutboxItem, i).body for i in outbox_ids]


def one_sms(body: str) -> bool:
    found = count_segments(body)
    return found.encoding == "GSM-7" and found.segments == 1


# -- first contact ---------------------------------------------------------------------------------


def test_the_first_message_gets_the_information_sms_once_after_the_reply(runtime):
    runtime.settings = Settings(database_url=runtime.settings.database_url,
                                structure={"name": "Centre social Les Lilas", "slug": "lilas",
                                           "privacy_url": "https://lilas.fr/donnees"})
    first = bodies(runtime, receive(runtime, sms("jai oublie mon code caf")).outbox_ids)
    info = ("Service de Centre social Les Lilas. Messages gardes 24 mois apres le dernier. "
            "Vos droits : https://lilas.fr/donnees ou MES DONNEES")
    assert first[-1] == info and one_sms(info)
    assert first[0].startswith("Code CAF oublie.")  # the answer to the question comes first
    second = bodies(runtime, receive(runtime, sms("suite")).outbox_ids)
    assert info not in second
    with runtime.db.transaction() as session:
        assert find_resident(session, NUMBER).informed_at is not None


def test_without_a_privacy_url_the_sms_points_to_the_notice_relais_serves(runtime):
    runtime.settings = Settings(database_url=runtime.settings.database_url, public_url="https://relais.example.org/")
    assert first_contact_text(runtime.settings).endswith("https://relais.example.org/confidentialite ou MES DONNEES")


def test_a_first_message_saying_stop_gets_no_information_sms(runtime):
    replies = bodies(runtime, receive(runtime, sms("STOP")).outbox_ids)
    assert replies == ["Vous ne recevrez plus de messages de Relais. Pour revenir, envoyez START."]
    with runtime.db.transaction() as session:
        assert find_resident(session, NUMBER).informed_at is None


def test_a_first_contact_text_too_long_or_not_gsm7_stops_start_up_naming_the_key(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("privacy:\n  first_contact_text: \"" + "Bonjour. " * 20 + "\"\n", encoding="utf-8")
    with pytest.raises(ConfigError) as too_long:
        load_settings(config)
    assert "privacy.first_contact_text" in str(too_long.value) and "one SMS holds 160" in str(too_long.value)
    config.write_text("privacy:\n  first_contact_text: \"Service de {structure} \U0001F600 {privacy_url}\"\n"
                      "structure:\n  name: Маяк\n", encoding="utf-8")
    with pytest.raises(ConfigError) as not_gsm:
        load_settings(config)
    assert "privacy.first_contact_text" in str(not_gsm.value) and "GSM-7" in str(not_gsm.value)
    config.write_text("privacy:\n  first_contact_text: \"Service de {name}\"\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="placeholder"):
        load_settings(config)


def test_the_default_text_fits_with_a_long_structure_name_and_the_default_url():
    settings = Settings(structure={"name": "Centre social et culturel Les Lilas", "slug": "lilas"})
    assert one_sms(first_contact_text(settings))


def test_every_privacy_text_is_one_gsm7_sms_once_filled():
    for key in template_keys():
        filled = text(key, messages=12345, tickets=999, workshops=99, since="31/12/2026")
        assert one_sms(filled), key


# -- MES DONNEES -----------------------------------------------------------------------------------


def test_my_data_confirmed_gives_a_summary_and_asks_a_mediator_for_the_copy(runtime):
    receive(runtime, sms("jai oublie mon code caf"))
    assert bodies(runtime, receive(runtime, sms("MES DONNEES")).outbox_ids) == [text("my_data_confirm")]
    result = receive(runtime, sms("oui"))
    [summary] = bodies(runtime, result.outbox_ids)
    since = paris(datetime.now(UTC)).strftime("%d/%m/%Y")
    # Counted before the summary is written: 3 in; out: the guide's intro and first step, the
    # information SMS, the question asking for OUI.
    assert summary == (f"Nous gardons 7 messages, 0 demandes et 0 ateliers depuis le {since}. "
                       "Un conseiller vous envoie la copie complete.")
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.reason, ticket.status) == (DATA_REQUEST, "open")
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.ticket_id == ticket.id)).all() == [
            "data_requested"]


# -- OUBLIER ---------------------------------------------------------------------------------------


def _busy_resident(runtime) -> None:
    """A resident with a guide, a closed ticket with a note, a past workshop and a seat in one to come."""
    receive(runtime, sms("jai oublie mon code caf"))
    receive(runtime, sms("AIDE"))
    with runtime.db.transaction() as session:
        resident = find_resident(session, NUMBER)
        mediator = Mediator(email="kim@centre.fr", display_name="Kim", password_hash="x")
        session.add(mediator)
        session.flush()
        ticket = session.scalars(select(Ticket)).one()
        session.add(TicketNote(ticket_id=ticket.id, mediator_id=mediator.id, body="Mme B., né en 1950"))
        ticket.status, ticket.outcome, ticket.theme = "closed", "resolu", "aide_aux_demarches_administratives"
        ticket.claimed_at = ticket.opened_at + timedelta(minutes=12)
        ticket.closed_at = ticket.opened_at + timedelta(minutes=40)
        now = datetime.now(UTC)
        past = add_workshop(session, runtime, now - timedelta(days=30), title="Passe")
        enrolment = enrol(session, resident, past.id, now - timedelta(days=40)).enrolment
        enrolment.status = "attended"
        upcoming = add_workshop(session, runtime, now + timedelta(days=5), capacity=1, title="A venir")
        enrol(session, resident, upcoming.id, now)
        waiting = add_resident(session, 7)
        assert enrol(session, waiting, upcoming.id, now).status == "waiting"


def test_forget_confirmed_erases_everything_personal_and_keeps_anonymous_counts(runtime):
    _busy_resident(runtime)
    assert bodies(runtime, receive(runtime, sms("Oublier")).outbox_ids) == [text("forget_confirm")]
    result = receive(runtime, sms("OUI"))

    with runtime.db.transaction() as session:
        assert session.scalars(select(Resident).where(Resident.address == NUMBER)).first() is None
        for model in (Ticket, TicketNote, Conversation):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        # Only the waiting resident's promotion remains in the history: nothing of the erased one.
        assert session.scalars(select(Message.resident_id).distinct()).all() in ([], [_waiting_id(session)])
        assert session.scalars(select(Reminder).where(Reminder.resident_id.is_(None))).all() == []
        kept = session.scalars(select(AnonymousTicket)).one()
        assert (kept.theme, kept.outcome, kept.status, kept.reason) == (
            "aide_aux_demarches_administratives", "resolu", "closed", "asked")
        assert (kept.minutes_to_claim, kept.minutes_to_close) == (12, 40)
        past = session.scalars(select(Enrolment).where(Enrolment.resident_id.is_(None))).all()
        assert sorted(e.status for e in past) == ["attended", "cancelled"]
        # The seat to come went to the first on the waiting list, who is told.
        promoted = session.scalars(select(Enrolment).where(Enrolment.resident_id == _waiting_id(session))).one()
        assert promoted.status == "confirmed"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "resident_erased")).one()
        assert NUMBER not in audit.detail and "5678" not in audit.detail and audit.detail.startswith("sms:")
        assert all(a.resident_id is None and a.ticket_id is None for a in session.scalars(select(AuditEntry)))

        [final] = [session.get(OutboxItem, i) for i in result.outbox_ids]
        assert (final.resident_id, final.message_id, final.address, final.body) == (
            None, None, NUMBER, text("erased"))

    report = dispatch_due(runtime, ids=result.outbox_ids)
    assert report.sent == result.outbox_ids
    with runtime.db.transaction() as session:
        sent = session.get(OutboxItem, result.outbox_ids[0])
        assert sent.status == "sent" and sent.address == ""  # the number is not kept once it went out


def _waiting_id(session) -> int:
    return session.scalars(select(Resident.id).where(Resident.address == "+33612340007")).one()


def test_writing_again_after_forget_starts_from_zero(runtime):
    receive(runtime, sms("jai oublie mon code caf"))
    receive(runtime, sms("OUBLIER"))
    receive(runtime, sms("oui"))
    replies = bodies(runtime, receive(runtime, sms("bonjour")).outbox_ids)
    assert replies[-1].startswith("Service de ")  # a new resident, told again who runs the service
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1


def test_forget_then_no_erases_nothing(runtime):
    receive(runtime, sms("jai oublie mon code caf"))
    receive(runtime, sms("OUBLIER"))
    assert bodies(runtime, receive(runtime, sms("non")).outbox_ids) == [text("not_confirmed")]
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 8


def test_an_erasure_touches_no_other_resident(runtime):
    receive(runtime, sms("jai oublie mon code caf", address="+33699999999"))
    receive(runtime, sms("AIDE", address="+33699999999"))
    receive(runtime, sms("jai oublie mon code caf"))
    receive(runtime, sms("AIDE"))
    with runtime.db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Message)
                                .where(Message.resident_id == find_resident(session, "+33699999999").id))
        erase_resident(session, find_resident(session, NUMBER), NOW, reason="test")
    with runtime.db.transaction() as session:
        other = find_resident(session, "+33699999999")
        assert session.scalar(select(func.count()).select_from(Message).where(Message.resident_id == other.id)) \
            == before
        assert session.scalars(select(Ticket)).one().resident_id == other.id


# -- relais residents export / erase ---------------------------------------------------------------


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    from bot.cli import app

    (tmp_path / "config.yml").write_text("", encoding="utf-8")  # defaults, whatever the working folder holds
    monkeypatch.setenv("RELAIS_CONFIG", str(tmp_path / "config.yml"))
    monkeypatch.setenv("RELAIS_DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(app, ["residents", *args], **kw)


def test_export_writes_everything_held_as_json_on_stdout(runtime, cli):
    _busy_resident(runtime)
    result = cli("export", "06 12 34 56 78")  # as a mediator would type it
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["resident"]["address"] == NUMBER
    assert set(data) == {"resident", "conversation", "messages", "tickets", "enrolments", "reminders", "outbox",
                         "audit"}
    assert [m["body"] for m in data["messages"] if m["direction"] == "in"] == ["jai oublie mon code caf", "AIDE"]
    assert data["tickets"][0]["notes"][0]["body"] == "Mme B., né en 1950"
    assert {e["workshop"]["title"] for e in data["enrolments"]} == {"Passe", "A venir"}
    assert data["conversation"]["state"]["mediator_notified"] is True
    assert any(a["action"] == "ticket_opened" for a in data["audit"])
    assert len(data["outbox"]) == len([m for m in data["messages"] if m["direction"] == "out"])
    assert data["reminders"]  # the reminders of the workshop to come
    with runtime.db.transaction() as session:  # who looked is on record too
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "data_exported")).one()
        assert audit.detail == "cli" and audit.resident_id == data["resident"]["id"]


def test_export_of_an_unknown_or_invalid_number_is_a_clear_error(runtime, cli):
    unknown = cli("export", "+33611111111")
    assert unknown.exit_code == 1 and "No resident" in unknown.output and unknown.stdout == ""
    invalid = cli("export", "12")
    assert invalid.exit_code == 1 and "Not a phone number" in invalid.output


def test_erase_asks_for_confirmation_unless_yes(runtime, cli):
    _busy_resident(runtime)
    declined = cli("erase", "+33 6 12 34 56 78", input="n\n")
    assert declined.exit_code == 1 and "Nothing erased" in declined.output
    with runtime.db.transaction() as session:
        find_resident(session, NUMBER)
    erased = cli("erase", "0612345678", "--yes")
    assert erased.exit_code == 0, erased.output
    assert "+336******78" in erased.output and "1 tickets" in erased.output
    with runtime.db.transaction() as session:
        assert session.scalars(select(Resident).where(Resident.address == NUMBER)).first() is None
        assert session.scalar(select(func.count()).select_from(AnonymousTicket)) == 1
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "resident_erased")).one()
        assert audit.detail.startswith("cli:") and "5678" not in audit.detail
    assert cli("erase", NUMBER, "--yes").exit_code == 1  # nothing left


def test_export_lists_what_export_resident_finds(runtime):
    receive(runtime, sms("bonjour"))
    with runtime.db.transaction() as session:
        data = export_resident(session, find_resident(session, NUMBER))
    assert data["tickets"] == [] and data["enrolments"] == [] and data["resident"]["informed_at"]
    json.dumps(data)  # JSON-ready as it is


def test_an_erasure_confirmation_that_fails_for_good_forgets_the_number_too(runtime):
    from bot.channels.base import SendResult

    class Unsubscribed:
        def send(self, message):  # type: ignore[no-untyped-def]
            return SendResult(ok=False, status="failed", transient=False, error_code="21610",
                              error_message="unsubscribed recipient")

    receive(runtime, sms("OUBLIER"))
    result = receive(runtime, sms("oui"))
    runtime.senders["simulator"] = Unsubscribed()
    report = dispatch_due(runtime, ids=result.outbox_ids)
    assert report.failed == result.outbox_ids
    with runtime.db.transaction() as session:
        item = session.get(OutboxItem, result.outbox_ids[0])
        assert (item.status, item.address, item.resident_id) == ("failed", "", None)
        assert session.scalar(select(func.count()).select_from(Resident)) == 0  # nobody recreated to opt out


def test_after_forget_and_the_confirmation_sent_the_number_is_nowhere_in_the_database(runtime):
    from bot.db.models import Base

    _busy_resident(runtime)
    receive(runtime, sms("mon numero c le 06 12 34 56 78"))  # residents write their own number too
    receive(runtime, sms("OUBLIER"))
    dispatch_due(runtime, ids=receive(runtime, sms("oui")).outbox_ids)
    found = []
    with runtime.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(table.select()).mappings():
                found += [f"{table.name}.{column}" for column, value in row.items()
                          if value is not None and ("12345678" in str(value) or "12 34 56 78" in str(value))]
    assert found == []
