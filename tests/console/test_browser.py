"""The console in a real browser: the whole round trip with a resident, phone-sized screens, and
resident text that tries to run script."""

from __future__ import annotations

import httpx
import pytest

from bot.app import create_app
from bot.structures import default_structure
from tests.console.live import chromium, new_page, screenshot, serve
from tests.tickets.people import PASSWORD, mediator

pytestmark = pytest.mark.browser

RESIDENT = "+33612345678"


@pytest.fixture
def live(runtime):
    with runtime.db.transaction() as session:
        here = default_structure(session, runtime.settings)
        here.opening_hours = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        mediator(session, "camille@centre.fr", [here], role="admin")
    with serve(create_app(runtime.settings, runtime, background_jobs=False)) as base_url:
        yield base_url


@pytest.fixture
def browser():
    with chromium() as found:
        yield found


def log_in(page, base_url: str) -> None:  # noqa: ANN001
    page.goto(f"{base_url}/console")
    page.get_by_label("E-mail").fill("camille@centre.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.keyboard.press("Enter")  # the keyboard is enough
    page.wait_for_selector("text=Demandes des résidents")


def text_as_resident(base_url: str, text: str, sender: str = RESIDENT) -> list[dict]:
    response = httpx.post(f"{base_url}/simulator/api/messages", json={"from": sender, "text": text}, timeout=10)
    response.raise_for_status()
    return response.json()["replies"]


def test_a_mediator_takes_a_ticket_answers_the_resident_and_closes_it(live, browser):
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    log_in(page, live)
    assert page.locator("[data-ticket-id]").count() == 0

    replies = text_as_resident(live, "AIDE")
    assert any("Un conseiller vous répond" in r["text"] for r in replies)
    # The queue updates by itself: no reload.
    row = page.wait_for_selector("[data-ticket-id]", timeout=10_000)
    page.wait_for_selector("#new-alert:not([hidden])", timeout=10_000)
    assert page.locator("[data-count=open]").inner_text() == "1"
    screenshot(page, "1-queue-desktop")

    row.query_selector("a").click()
    page.wait_for_selector("text=Prendre en charge")
    page.get_by_role("button", name="Prendre en charge").click()
    page.wait_for_selector("text=Ticket pris en charge.")

    answer = "Bonjour, je suis Camille du centre. Vous êtes bloqué à quelle étape ?"
    page.get_by_label("Répondre par SMS").fill(answer)
    page.wait_for_selector("#preview-count:has-text('1 SMS')", timeout=10_000)
    assert "Vous etes bloqué" in page.locator("#preview-text").inner_text()  # what the phone will show
    screenshot(page, "2-ticket-reply-preview-desktop")
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_selector("text=Réponse envoyée au résident.")

    thread = httpx.get(f"{live}/simulator/api/messages", params={"from": RESIDENT}, timeout=10).json()
    assert thread[-1]["by_mediator"] and thread[-1]["text"] == answer.replace("êtes", "etes")

    # The resident answers; the conversation view shows it without a reload.
    text_as_resident(live, "a letape 3 le code narrive pas")
    page.wait_for_selector("text=a letape 3 le code narrive pas", timeout=10_000)

    page.get_by_label("Résolu").check()
    page.get_by_label("Thématique", exact=True).select_option("aide_aux_demarches_administratives")
    page.get_by_label("Sous-thématique (démarches administratives)").select_option("social_sante")
    page.get_by_role("button", name="Fermer", exact=True).click()
    page.wait_for_selector("text=Ticket fermé.")
    screenshot(page, "3-ticket-closed-desktop")


def test_the_console_fits_a_phone_screen(live, browser):
    text_as_resident(live, "AIDE")
    page = new_page(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                    has_touch=True)
    log_in(page, live)
    page.wait_for_selector("[data-ticket-id]")
    screenshot(page, "4-queue-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
    page.locator("[data-ticket-id] a").first.click()
    page.wait_for_selector("text=Prendre en charge")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "5-ticket-phone")


def test_resident_text_never_runs_as_script(live, browser):
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live)
    # Arrives through the live update of the queue...
    text_as_resident(live, "AIDE")
    text_as_resident(live, '<img src=x onerror="window.__pwned=1;alert(1)">')
    page.wait_for_selector("text=<img src=x onerror", timeout=10_000)
    # ...and of the open conversation.
    page.locator("[data-ticket-id] a").first.click()
    page.wait_for_selector("text=Prendre en charge")
    text_as_resident(live, "<script>window.__pwned=2;alert(2)</script>")
    page.wait_for_selector("text=<script>window.__pwned=2", timeout=10_000)
    page.reload()  # and rendered in the page itself
    page.wait_for_selector("text=<script>window.__pwned=2")
    screenshot(page, "6-xss-shown-as-text")
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("img[src=x]").count() == 0 and page.locator("#thread script").count() == 0
