"""A reader for Rasa 3.x NLU training data (YAML), enough for Relais' files and anyone's test set.

Reads ``nlu:`` items with ``intent:`` + ``examples:`` (a ``|`` block of ``- text`` lines, or a list of
``{text: ...}``), ``synonym:`` items, and ignores ``regex:`` / ``lookup:`` items. Entities are annotated the
Rasa way: ``[pole emploi](service)``, ``[pole emploi]{"entity": "service", "value": "france_travail"}`` or
the older ``[pole emploi](service:france_travail)``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


class TrainingDataError(ValueError):
    """A training data file is not valid Rasa NLU YAML; the message names the file and the item."""


@dataclass(frozen=True)
class AnnotatedEntity:
    entity: str
    value: str  # the annotated value, or the surface text when none was given
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[AnnotatedEntity, ...] = ()
    source: str = ""


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface text (lowercase) -> canonical value

    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def by_intent(self) -> dict[str, list[Example]]:
        grouped: dict[str, list[Example]] = {}
        for example in self.examples:
            grouped.setdefault(example.intent, []).append(example)
        return grouped

    def canonical(self, entity: AnnotatedEntity) -> str:
        """The canonical value of an annotated entity, through the synonyms (as Rasa's mapper does)."""
        return self.synonyms.get(entity.value.lower(), entity.value)


def parse_annotated(text: str) -> tuple[str, tuple[AnnotatedEntity, ...]]:
    """``"code [caf](service) bloque"`` -> ``("code caf bloque", (AnnotatedEntity("service", "caf", 5, 8),))``."""
    plain: list[str] = []
    entities: list[AnnotatedEntity] = []
    position = 0
    length = 0
    for match in _ANNOTATION.finditer(text):
        before = text[position:match.start()]
        plain.append(before)
        length += len(before)
        surface = match.group("text")
        if match.group("json"):
            try:
                spec = json.loads(match.group("json"))
            except json.JSONDecodeError as exc:
                raise TrainingDataError(f"bad entity annotation {match.group(0)!r}: {exc}") from exc
            if not isinstance(spec, dict) or "entity" not in spec:
                raise TrainingDataError(f"entity annotation without 'entity': {match.group(0)!r}")
            name, value = str(spec["entity"]), str(spec.get("value", surface))
        else:
            name, _, value = match.group("short").partition(":")
            value = value or surface
        entities.append(AnnotatedEntity(name.strip(), value.strip(), length, length + len(surface), surface))
        plain.append(surface)
        length += len(surface)
        position = match.end()
    plain.append(text[position:])
    return "".join(plain), tuple(entities)


def _example_lines(block: object, where: str) -> list[str]:
    if isinstance(block, str):
        lines = []
        for raw in block.splitlines():
            line = raw.strip()
            if not line:
                continue
            if not line.startswith("-"):
                raise TrainingDataError(f"{where}: example line must start with '- ': {raw!r}")
            lines.append(line[1:].strip())
        return lines
    if isinstance(block, list):
        return [str(item["text"] if isinstance(item, dict) else item).strip() for item in block]
    raise TrainingDataError(f"{where}: 'examples' must be a '|' block or a list")


def read_file(path: Path) -> TrainingData:
    """Read one Rasa NLU YAML file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TrainingDataError(f"{path}: cannot read Rasa NLU YAML: {exc}") from exc
    data = TrainingData()
    if not document:
        return data
    if not isinstance(document, dict):
        raise TrainingDataError(f"{path}: expected a mapping with an 'nlu:' list")
    items = document.get("nlu") or []
    if not isinstance(items, list):
        raise TrainingDataError(f"{path}: 'nlu' must be a list")
    for index, item in enumerate(items):
        where = f"{path}: nlu item {index + 1}"
        if not isinstance(item, dict):
            raise TrainingDataError(f"{where}: expected a mapping")
        if "intent" in item:
            intent = str(item["intent"])
            for line in _example_lines(item.get("examples", ""), f"{where} (intent {intent})"):
                text, entities = parse_annotated(line)
                if text:
                    data.examples.append(Example(text, intent, entities, source=str(path)))
        elif "synonym" in item:
            value = str(item["synonym"])
            for line in _example_lines(item.get("examples", ""), f"{where} (synonym {value})"):
                data.synonyms[line.lower()] = value
        # regex / lookup items carry no examples for the intent classifier: ignored.
    for example in data.examples:
        for entity in example.entities:
            if entity.value != entity.text:  # an explicit value is a synonym, as in Rasa
                data.synonyms.setdefault(entity.text.lower(), entity.value)
    return data


def data_files(path: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """The YAML files of ``path`` (a file, or a folder read recursively), sorted, minus ``exclude`` folders."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise TrainingDataError(f"{path}: no such file or folder")
    excluded = [p.resolve() for p in exclude]
    files = []
    for candidate in sorted(path.rglob("*")):
        if candidate.suffix not in {".yml", ".yaml"} or not candidate.is_file():
            continue
        if any(candidate.resolve().is_relative_to(folder) for folder in excluded):
            continue
        files.append(candidate)
    return files


def load(path: Path, exclude: Iterable[Path] = ()) -> TrainingData:
    """Read a Rasa NLU YAML file or every YAML file under a folder into one :class:`TrainingData`."""
    merged = TrainingData()
    for file in data_files(path, exclude):
        part = read_file(file)
        merged.examples.extend(part.examples)
        merged.synonyms.update(part.synonyms)
    return merged


def fingerprint(files: Iterable[Path], *extra: str) -> str:
    """SHA-256 of the files' names and bytes (plus ``extra`` strings): the model is stamped with it."""
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda p: p.name + str(p)):
        digest.update(file.name.encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
        digest.update(b"\0")
    for item in extra:
        digest.update(item.encode())
        digest.update(b"\0")
    return digest.hexdigest()
