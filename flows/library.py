"""Loading the guide library from ``flows/guides/*.yml`` and finding the guide for a need."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from flows.schema import Guide

GUIDES_DIR = Path(__file__).parent / "guides"
MENU_FILE = Path(__file__).parent / "menu.yml"


class LibraryError(Exception):
    """A guide file that cannot be read or does not follow the schema; the message names the file."""


@dataclass(frozen=True)
class MenuEntry:
    label: str
    guide: str | None = None  # a guide id
    intent: str | None = None  # or an intent whose service the engine will ask for


@dataclass
class Library:
    guides: dict[str, Guide]
    menu: list[MenuEntry] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    def get(self, guide_id: str) -> Guide:
        return self.guides[guide_id]

    def for_intent(self, intent: str, service: str | None = None) -> Guide | None:
        """The guide answering ``intent`` for ``service``; without a service, the intent's only guide.

        When several guides qualify, the one marked ``entry: true`` wins; without one, a known
        service takes the first in file order and an unknown service gives None (ask which site).
        """
        candidates = [g for g in self.guides.values() if intent in g.intents]
        if service is not None:
            exact = [g for g in candidates if g.service == service]
            if exact:
                return _preferred(exact)
            generic = [g for g in candidates if g.service is None]
            return _preferred(generic) if generic else None
        if len(candidates) == 1:
            return candidates[0]
        generic = [g for g in candidates if g.service is None]
        if len(generic) == 1:
            return generic[0]
        entries = [g for g in (generic or candidates) if g.entry]
        return entries[0] if len(entries) == 1 else None

    def services_for(self, intent: str) -> list[str]:
        """Services that have a guide for ``intent``, in file order, without repeats."""
        services: list[str] = []
        for guide in self.guides.values():
            if intent in guide.intents and guide.service and guide.service not in services:
                services.append(guide.service)
        return services


def _preferred(guides: list[Guide]) -> Guide:
    """The guide marked as the entry point among ``guides``, else the first in file order."""
    return next((g for g in guides if g.entry), guides[0])


def load_guide(path: Path) -> Guide:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LibraryError(f"{path}: cannot read the guide: {exc}") from exc
    if not isinstance(raw, dict):
        raise LibraryError(f"{path}: a guide is a YAML mapping (id, title, intents, steps...)")
    try:
        return Guide.model_validate(raw)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise LibraryError(f"{path}: {details}") from exc


def load_library(guides_dir: Path = GUIDES_DIR, menu_file: Path = MENU_FILE) -> Library:
    guides: dict[str, Guide] = {}
    files: dict[str, Path] = {}
    for path in sorted(guides_dir.glob("*.yml")):
        guide = load_guide(path)
        if guide.id in guides:
            raise LibraryError(f"{path}: guide id '{guide.id}' is already used by {files[guide.id]}")
        guides[guide.id] = guide
        files[guide.id] = path
    menu: list[MenuEntry] = []
    if menu_file.exists():
        raw_menu = yaml.safe_load(menu_file.read_text(encoding="utf-8")) or []
        for entry in raw_menu:
            menu.append(MenuEntry(label=entry["label"], guide=entry.get("guide"), intent=entry.get("intent")))
    return Library(guides=guides, menu=menu, files=files)


@lru_cache(maxsize=1)
def default_library() -> Library:
    """The library shipped in ``flows/guides``, loaded once per process."""
    return load_library()
