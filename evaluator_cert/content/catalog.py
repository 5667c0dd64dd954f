"""The catalog: the whole validated content, immutable, indexed and versioned.

``load_catalog(root)`` reads a content root (a folder holding ``curriculum/`` and
``assessments/``) and either returns a :class:`Catalog` or raises :class:`ContentError`
listing every problem. Repeated calls for an unchanged tree return the same object.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from evaluator_cert.content.loader import (
    ASSESSMENTS,
    CURRICULUM,
    LEVEL_ORDER,
    ContentError,
    LoadedContent,
    Problem,
    Source,
    _inside,
    humanize_error,
    load_content,
    media_references,
)
from evaluator_cert.content.schema import FactCheckItem, Item, Level, Module

CONTENT_DIR_ENV = "EVALUATOR_CERT_CONTENT_DIR"


def default_content_root() -> Path:
    """``$EVALUATOR_CERT_CONTENT_DIR`` if set (a private bank), else the repository's content."""
    configured = os.environ.get(CONTENT_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class ItemOrigin:
    """Which set an item belongs to and where it is defined."""

    kind: str  # practice | exam | calibration
    level: str
    module: str | None
    path: str
    line: int | None


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, eq=False)
class Catalog:
    """All levels, modules and items of one content root. Read-only."""

    root: Path
    levels: tuple[Level, ...]
    modules: tuple[Module, ...]
    items: tuple[Item, ...]
    version: str
    _levels: Mapping[str, Level] = field(repr=False)
    _modules: Mapping[str, Module] = field(repr=False)
    _lessons: Mapping[str, str] = field(repr=False)
    _practice: Mapping[str, tuple[Item, ...]] = field(repr=False)
    _exams: Mapping[str, tuple[Item, ...]] = field(repr=False)
    _calibration: Mapping[str, tuple[Item, ...]] = field(repr=False)
    _items: Mapping[str, Item] = field(repr=False)
    _origins: Mapping[str, ItemOrigin] = field(repr=False)
    _media_hashes: Mapping[str, str] = field(repr=False)

    # -- lookups ---------------------------------------------------------------------

    def level(self, level_id: str) -> Level:
        return self._levels[level_id]

    def module(self, module_id: str) -> Module:
        return self._modules[module_id]

    def modules_of(self, level_id: str) -> tuple[Module, ...]:
        if level_id not in self._levels:
            raise KeyError(level_id)
        return tuple(m for m in self.modules if m.level == level_id)

    def lesson_markdown(self, module_id: str) -> str:
        return self._lessons[module_id]

    def practice_items(self, module_id: str) -> tuple[Item, ...]:
        if module_id not in self._modules:
            raise KeyError(module_id)
        return self._practice.get(module_id, ())

    def exam_bank(self, level_id: str) -> tuple[Item, ...]:
        if level_id not in self._levels:
            raise KeyError(level_id)
        return self._exams.get(level_id, ())

    def calibration_batch(self, level_id: str) -> tuple[Item, ...]:
        if level_id not in self._levels:
            raise KeyError(level_id)
        return self._calibration.get(level_id, ())

    def item(self, item_id: str) -> Item:
        return self._items[item_id]

    def has_item(self, item_id: str) -> bool:
        return item_id in self._items

    def item_origin(self, item_id: str) -> ItemOrigin:
        return self._origins[item_id]

    def media_path(self, rel: str) -> Path:
        """Absolute path of a media file referenced as ``media/...`` by an item."""
        base = self.root / ASSESSMENTS
        target = _inside(base, base, rel)
        if target is None:
            raise ValueError(f"media path {rel!r} is not inside {ASSESSMENTS}/")
        return target

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    # -- corrections -----------------------------------------------------------------

    def with_gold_overrides(
        self, overrides: Mapping[str, Any], *, explanations: Mapping[str, str] | None = None
    ) -> Catalog:
        """A catalog whose items carry corrected gold (e.g. after an accepted dispute).

        The value is what the item's ``gold`` field holds, as plain data; for fact_check it
        is ``{claim_id: verdict}`` (claims not named keep their gold). ``explanations`` may
        rewrite the expert explanation of corrected items. Invalid corrections raise
        :class:`ContentError` naming the item's file and line.
        """
        if not overrides:
            return self
        explanations = explanations or {}
        problems: list[Problem] = []
        replaced: dict[str, Item] = {}
        for item_id, gold in overrides.items():
            if item_id not in self._items:
                raise KeyError(item_id)
            item = self._items[item_id]
            origin = self._origins[item_id]
            try:
                replaced[item_id] = _override(item, gold, explanations.get(item_id))
            except ValidationError as exc:
                for e in exc.errors():
                    _, msg = humanize_error(
                        e,
                        None,
                        start_line=origin.line,
                        context=f"{item.type} item {item.id} (gold override)",
                        item_type=item.type,
                    )
                    problems.append(Problem(origin.path, origin.line, msg))
            except (TypeError, ValueError) as exc:
                msg = f"{item.type} item {item.id} (gold override): {exc}"
                problems.append(Problem(origin.path, origin.line, msg))
        if problems:
            raise ContentError(problems)

        def swap(items: tuple[Item, ...]) -> tuple[Item, ...]:
            return tuple(replaced.get(i.id, i) for i in items)

        return _build(
            root=self.root,
            levels=self.levels,
            modules=self.modules,
            lessons=self._lessons,
            practice={k: swap(v) for k, v in self._practice.items()},
            exams={k: swap(v) for k, v in self._exams.items()},
            calibration={k: swap(v) for k, v in self._calibration.items()},
            items=swap(self.items),
            origins=self._origins,
            media_hashes=self._media_hashes,
        )


def _override(item: Item, gold: Any, explanation: str | None = None) -> Item:
    data = item.model_dump(mode="python")
    if explanation is not None:
        data["explanation"] = explanation
    if isinstance(item, FactCheckItem):
        if not isinstance(gold, Mapping):
            raise TypeError("fact_check gold must be a mapping {claim_id: verdict}")
        known = {c.id for c in item.claims}
        unknown = sorted(set(gold) - known)
        if unknown:
            raise ValueError(f"unknown claim id(s): {', '.join(map(str, unknown))}")
        data["claims"] = [{**c, "gold": gold.get(c["id"], c["gold"])} for c in data["claims"]]
    else:
        data["gold"] = gold
    # Re-validate as the item's own type so every schema check still applies.
    return type(item).model_validate(data)


def _version(
    levels: tuple[Level, ...],
    modules: tuple[Module, ...],
    lessons: Mapping[str, str],
    items: tuple[Item, ...],
    origins: Mapping[str, ItemOrigin],
    media_hashes: Mapping[str, str],
) -> str:
    # Only content, never paths on this machine or file times: the same bank hashes the
    # same everywhere.
    document = {
        "levels": [lv.model_dump(mode="json") for lv in levels],
        "modules": [m.model_dump(mode="json") for m in modules],
        "lessons": {k: _sha256(v.encode()) for k, v in sorted(lessons.items())},
        "items": sorted(
            (
                [
                    origins[i.id].kind,
                    origins[i.id].level,
                    origins[i.id].module,
                    i.model_dump(mode="json"),
                ]
                for i in items
            ),
            key=lambda row: row[3]["id"],
        ),
        "media": dict(sorted(media_hashes.items())),
    }
    return _sha256(_canonical(document))[:12]


def _build(
    *,
    root: Path,
    levels: tuple[Level, ...],
    modules: tuple[Module, ...],
    lessons: Mapping[str, str],
    practice: Mapping[str, tuple[Item, ...]],
    exams: Mapping[str, tuple[Item, ...]],
    calibration: Mapping[str, tuple[Item, ...]],
    items: tuple[Item, ...],
    origins: Mapping[str, ItemOrigin],
    media_hashes: Mapping[str, str],
) -> Catalog:
    return Catalog(
        root=root,
        levels=levels,
        modules=modules,
        items=items,
        version=_version(levels, modules, lessons, items, origins, media_hashes),
        _levels=MappingProxyType({lv.id: lv for lv in levels}),
        _modules=MappingProxyType({m.id: m for m in modules}),
        _lessons=MappingProxyType(dict(lessons)),
        _practice=MappingProxyType(dict(practice)),
        _exams=MappingProxyType(dict(exams)),
        _calibration=MappingProxyType(dict(calibration)),
        _items=MappingProxyType({i.id: i for i in items}),
        _origins=MappingProxyType(dict(origins)),
        _media_hashes=MappingProxyType(dict(media_hashes)),
    )


def catalog_from_content(content: LoadedContent) -> Catalog:
    """Build the catalog from checked content; raises ContentError if it has problems."""
    if content.problems:
        raise ContentError(content.problems)
    practice: dict[str, list[Item]] = {}
    exams: dict[str, list[Item]] = {}
    calibration: dict[str, list[Item]] = {}
    origins: dict[str, ItemOrigin] = {}
    items: list[Item] = []
    for loaded in content.sets:
        s = loaded.item_set
        if s.kind == "practice":
            bucket = practice.setdefault(s.module or "", [])
        elif s.kind == "exam":
            bucket = exams.setdefault(s.level, [])
        else:
            bucket = calibration.setdefault(s.level, [])
        for item, source in zip(s.items, loaded.sources, strict=True):
            bucket.append(item)
            items.append(item)
            origins[item.id] = _origin(s.kind, s.level, s.module, source)
    base = content.root / ASSESSMENTS
    media_hashes = {}
    for rel in media_references(content):
        target = _inside(base, base, rel)
        assert target is not None  # the loader has checked every reference
        media_hashes[rel] = _sha256(target.read_bytes())
    levels = tuple(sorted(content.levels.values(), key=lambda lv: LEVEL_ORDER.index(lv.id)))
    return _build(
        root=content.root,
        levels=levels,
        modules=tuple(content.modules[k] for k in sorted(content.modules)),
        lessons=content.lessons,
        practice={k: tuple(v) for k, v in practice.items()},
        exams={k: tuple(v) for k, v in exams.items()},
        calibration={k: tuple(v) for k, v in calibration.items()},
        items=tuple(items),
        origins=origins,
        media_hashes=media_hashes,
    )


def _origin(kind: str, level: str, module: str | None, source: Source) -> ItemOrigin:
    return ItemOrigin(kind, level, module, source.path, source.line)


def tree_fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detector: (path, mtime_ns, size) of every file under the content folders."""
    entries: list[tuple[str, int, int]] = []
    for folder in (CURRICULUM, ASSESSMENTS):
        for dirpath, _dirs, files in os.walk(root / folder):
            for name in files:
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                entries.append((path, st.st_mtime_ns, st.st_size))
    entries.sort()
    return tuple(entries)


@lru_cache(maxsize=8)
def _load_cached(root: str, fingerprint: tuple[tuple[str, int, int], ...]) -> Catalog:
    del fingerprint  # part of the cache key only
    return catalog_from_content(load_content(Path(root)))


def load_catalog(root: Path | str | None = None) -> Catalog:
    """Load and validate the content under ``root`` (default: :func:`default_content_root`).

    Cached on the root and a fingerprint of file times and sizes, so calling it on every
    page run is cheap; an edited file gives a fresh catalog. Raises ContentError.
    """
    path = Path(root) if root is not None else default_content_root()
    resolved = path.resolve()
    return _load_cached(str(resolved), tree_fingerprint(resolved))


def clear_catalog_cache() -> None:
    _load_cached.cache_clear()
