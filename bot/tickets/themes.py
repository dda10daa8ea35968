"""The conseiller numérique activity themes and ticket outcomes, read from themes.yml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

THEMES_FILE = Path(__file__).parent / "themes.yml"
ADMIN_PROCEDURES = "aide_aux_demarches_administratives"


@lru_cache(maxsize=1)
def _data() -> dict[str, dict[str, str]]:
    return yaml.safe_load(THEMES_FILE.read_text(encoding="utf-8"))


def themes() -> dict[str, str]:
    return _data()["themes"]


def subthemes() -> dict[str, str]:
    return _data()["subthemes"]


def outcomes() -> dict[str, str]:
    return _data()["outcomes"]
