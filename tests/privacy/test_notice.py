"""The notice the first-contact SMS points to, served by Relais when the structure has none of its own."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.privacy.apply import first_contact_text


def test_the_url_in_the_first_contact_sms_serves_the_notice_in_plain_french(runtime):
    runtime.settings = Settings(database_url=runtime.settings.database_url, public_url="http://testserver",
                                structure={"name": "Centre social <Les Lilas>", "slug": "lilas"},
                                retention={"months": 12})
    url = re.search(r"http://\S+", first_contact_text(runtime.settings)).group(0)
    with TestClient(create_app(runtime.settings, runtime, background_jobs=False)) as client:
        page = client.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Centre social &lt;Les Lilas&gt;" in page.text  # escaped, like everything from configuration
    assert "<strong>12 mois</strong>" in page.text
    for keyword in ("MES DONNEES", "OUBLIER", "STOP", "cnil.fr"):
        assert keyword in page.text
    assert "<script" not in page.text
