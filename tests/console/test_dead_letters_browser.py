"""'Envois en échec' in a real browser: the count in the navigation, the page, the 'Réessayer' button."""

from __future__ import annotations

import pytest

from bot.app import create_app
from bot.structures import default_structure
from tests.console.live import chromium, new_page, serve
from tests.console.test_dead_letters import _dead_letter
from tests.tickets.people import PASSWORD, mediator

pytestmark = pytest.mark.browser


def test_a_mediator_sees_a_dead_letter_from_the_navigation_and_sends_it_again(runtime, db):
    with runtime.db.transaction() as session:
        here = default_structure(session, runtime.settings)
        mediator(session, "camille@centre.fr", [here])
        structure_id = here.id
    outbox_id = _dead_letter(db, structure_id, "+33612345678")
    with serve(create_app(runtime.settings, runtime, background_jobs=False)) as base_url, chromium() as browser:
        page = new_page(browser, viewport={"width": 390, "height": 844})  # a phone
        page.goto(f"{base_url}/console")
        page.get_by_label("E-mail").fill("camille@centre.fr")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Demandes des résidents")
        assert page.locator("#badge-dead-letters").inner_text() == "1"

        page.get_by_role("link", name="Envois en échec").click()
        row = page.locator(f"[data-outbox-id='{outbox_id}']")
        assert "+336******78" in row.inner_text() and "ReadTimeout" in row.inner_text()
        row.get_by_role("button", name="Réessayer").click()

        page.wait_for_selector("text=Message remis dans la file d'envoi.")
        assert page.locator("#no-dead-letters").is_visible()
        assert page.locator("#badge-dead-letters").inner_text() == ""
    with db.transaction() as session:
        from bot.db.models import OutboxItem

        assert session.get(OutboxItem, outbox_id).status == "pending"
