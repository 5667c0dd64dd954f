"""Read the content tree (YAML and JSONL) into the schema's models.

Every problem names the file (relative to the content root), the line and what is wrong,
and loading collects all problems instead of stopping at the first. Line numbers come
from a YAML loader whose mappings and sequences remember where each key and element
starts; pydantic's error locations are walked back through that tree.

Layout read here (see docs/content-authoring.md):

    curriculum/levels.yaml                  the levels and their exam rules
    curriculum/**/<module id>.yaml          one file per module, lesson next to it
    assessments/{practice,exams,calibration}/**/*.yaml|*.yml|*.jsonl   item sets
    assessments/media/...                   images and audio referenced by items

A JSONL item set has a header object on its first non-blank line
(``{"kind": "exam", "level": "L1"}``) and one item object per following line.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from evaluator_cert.content.schema import (
    TASK_TYPES,
    BoundingBoxItem,
    ClassificationItem,
    FactCheckItem,
    Item,
    ItemSet,
    JustificationItem,
    Level,
    Module,
    PairwiseItem,
    RankingItem,
    RubricRatingItem,
    SpanItem,
    TranscriptionItem,
)

CURRICULUM = "curriculum"
ASSESSMENTS = "assessments"
LEVELS_FILE = "curriculum/levels.yaml"
SET_FOLDERS: dict[str, str] = {
    "practice": "practice",
    "exams": "exam",
    "calibration": "calibration",
}
SET_SUFFIXES = (".yaml", ".yml", ".jsonl")
LEVEL_ORDER = ("L1", "L2", "L3")

ITEM_CLASSES: dict[str, type[BaseModel]] = {
    "classification": ClassificationItem,
    "rubric_rating": RubricRatingItem,
    "pairwise": PairwiseItem,
    "ranking": RankingItem,
    "justification": JustificationItem,
    "fact_check": FactCheckItem,
    "span": SpanItem,
    "bounding_box": BoundingBoxItem,
    "transcription": TranscriptionItem,
}
ITEM_ADAPTER: TypeAdapter[Any] = TypeAdapter(Item)


# ------------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with the content, at ``path:line`` (path relative to the root)."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    """The content is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        shown = "\n".join(str(p) for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n... and {more} more"
        super().__init__(f"{len(self.problems)} content problem(s):\n{shown}")


def _sort_key(p: Problem) -> tuple[str, int, str]:
    return (p.path, p.line or 0, p.message)


# ------------------------------------------------------------- YAML with line numbers


class LineDict(dict[Any, Any]):
    """A mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}


class LineList(list[Any]):
    """A sequence that remembers its own line and the line of each element (1-based)."""

    line: int = 0
    lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines = []


_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader whose mappings/sequences are LineDict/LineList."""


def _construct_map(loader: Any, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    yield data
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from exc
        if key in seen:
            # PyYAML silently keeps the last value; an author never means that.
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: Any, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)
    data.lines = [child.start_mark.line + 1 for child in node.value]


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _with_lines(value: Any, line: int) -> Any:
    """Wrap plain JSON data so that every node reports ``line`` (a JSONL line)."""
    if isinstance(value, dict):
        out = LineDict()
        out.line = line
        for k, v in value.items():
            out[k] = _with_lines(v, line)
            out.key_lines[k] = line
        return out
    if isinstance(value, list):
        seq = LineList(_with_lines(v, line) for v in value)
        seq.line = line
        seq.lines = [line] * len(seq)
        return seq
    return value


class FileError(Exception):
    """A file that cannot be parsed at all."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_yaml(text: str) -> Any:
    """Parse YAML text into LineDict/LineList trees; raise FileError naming the line."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "invalid YAML"
        raise FileError(line, f"invalid YAML: {what}") from exc
    except yaml.YAMLError as exc:
        raise FileError(None, f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise FileError(None, "invalid YAML: nested too deeply") from exc


def read_text(path: Path) -> str:
    """Read a UTF-8 file, raising FileError (not UnicodeDecodeError) for other bytes."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileError(line, "the file is not valid UTF-8 text") from exc
    # Same line counting everywhere, whatever the authoring platform's newlines were.
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ------------------------------------------------------------ pydantic error mapping

_ALL_FIELDS: tuple[str, ...] = tuple(
    sorted(
        {
            name
            for model in (*ITEM_CLASSES.values(), ItemSet, Module, Level)
            for name in model.model_fields
        }
        | {"point", "keywords", "note", "occurrence", "box", "label", "metric", "threshold"}
        | {"min_items", "use_ci_lower", "form_size", "time_limit_minutes", "max_attempts"}
        | {"window_days", "cooldown_hours", "pass_threshold", "dimension_threshold"}
    )
)

# Words in a model-level message that name the key the author should look at.
_KEY_WORDS: dict[str, str] = {
    "gold": "gold",
    "span": "gold",
    "box": "gold",
    "responses": "responses",
    "labels": "labels",
    "dimensions": "dimensions",
    "choices": "choices",
    "claim": "claims",
    "module": "module",
}


def _render_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("["):
            continue  # pydantic's "[key]" marker for dict keys
        else:
            out += f".{part}" if out else part
    return out


def _walk(data: Any, loc: Sequence[str | int], start: int | None) -> tuple[int | None, Any, int]:
    """Follow ``loc`` through the line tree: (line of the deepest node reached, node, depth)."""
    line = start
    node = data
    depth = 0
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lines[part] if part < len(node.lines) else line
            node = node[part]
        else:
            break
        depth += 1
    return line, node, depth


def _line_for_message(node: LineDict, msg: str, line: int | None) -> int | None:
    """The line of the key a model-level message is about, or of the list element it quotes."""
    for word in re.findall(r"[A-Za-z_]+", msg):
        key = _KEY_WORDS.get(word, word if word in node else None)
        if key is None or key not in node:
            continue
        line = node.key_lines.get(key, line)
        value = node[key]
        quoted = set(re.findall(r"'([^']*)'", msg))
        if isinstance(value, LineList) and quoted:
            for i, element in enumerate(value):
                if isinstance(element, LineDict) and any(
                    isinstance(v, str) and v in quoted for v in element.values()
                ):
                    return value.lines[i]
        return line
    return line


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain_message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    for prefix in ("Input should", "String should", "List should", "Tuple should"):
        if msg.startswith(prefix):
            msg = "should" + msg[len(prefix) :]
    if msg.startswith("Dictionary should"):
        msg = "should" + msg[len("Dictionary should") :]
    for technical, plain in (("a valid tuple", "a list"), ("a valid list", "a list")):
        msg = msg.replace(technical, plain)
    return msg.replace("a valid dictionary", "a mapping")


def humanize_error(
    err: Mapping[str, Any],
    data: Any,
    *,
    start_line: int | None,
    context: str,
    item_type: str | None = None,
) -> tuple[int | None, str]:
    """Turn one pydantic error into ``(line, message)`` an author can act on.

    ``context`` names the thing validated (e.g. ``"pairwise item L1_X001"``); ``item_type``
    is the item's ``type`` so the discriminator's tag can be skipped in the location.
    """
    loc: list[str | int] = list(err["loc"])
    if item_type is not None and loc and loc[0] == item_type:
        loc = loc[1:]
    kind = err["type"]
    ctx = err.get("ctx") or {}

    if kind == "union_tag_invalid":
        line, _, _ = _walk(data, [*loc, "type"], start_line)
        return line, (
            f"unknown task type {ctx.get('tag')!r} (expected one of: {', '.join(TASK_TYPES)})"
        )
    if kind == "union_tag_not_found":
        line, _, _ = _walk(data, loc, start_line)
        return line, f"{context}: type is required (one of: {', '.join(TASK_TYPES)})"
    if kind == "model_attributes_type" or (kind == "model_type" and not loc):
        line, _, _ = _walk(data, loc, start_line)
        where = _render_loc(loc)
        got = type(err.get("input")).__name__
        return line, f"{context}: {where + ' ' if where else ''}should be a mapping, got {got}"

    line, node, depth = _walk(data, loc, start_line)
    where = _render_loc(loc)

    if kind == "missing":
        return line, f"{context}: {where} is required"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        known = ITEM_CLASSES[item_type].model_fields if item_type and len(loc) == 1 else _ALL_FIELDS
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        parent = _render_loc(loc[:-1])
        at = f" in {parent}" if parent else ""
        return line, f"{context}: unknown field {name!r}{at}{hint}"
    if kind == "string_pattern_mismatch" and len(loc) == 1 and loc[0] in ("id", "module"):
        sample = {"id": "L1_M001_P01", "module": "L1_M001"}[str(loc[-1])]
        if context.startswith("module") and loc[-1] == "id":
            sample = "L1_M001"
        return line, (
            f"{context}: {where} {err.get('input')!r} is not a valid id "
            f"(like {sample}, pattern {ctx.get('pattern')})"
        )

    msg = _plain_message(err)
    if kind in ("value_error", "assertion_error") and depth == len(loc):
        # A model-level check: point at the key its message names, if there is one.
        if isinstance(node, LineDict):
            line = _line_for_message(node, msg, line)
        if item_type is not None and msg.startswith(f"{item_type} gold ") and not where:
            return line, msg  # already a full sentence about this item's gold
        return line, f"{context}: {where + ': ' if where else ''}{msg}"

    got = err.get("input")
    suffix = ""
    scalar = isinstance(got, (str, int, float, bool))
    if kind not in ("too_short", "too_long") and scalar and _short(got) not in msg:
        suffix = f" (got {_short(got)})"
    return line, f"{context}: {where + ': ' if where else ''}{msg}{suffix}"


def _without_cascades(errors: list[Any]) -> list[Any]:
    """Drop "too short" errors of a list whose own elements failed: one cause, one message."""
    failed = [tuple(e["loc"]) for e in errors]
    return [
        e
        for e in errors
        if e["type"] != "too_short"
        or not any(len(f) > len(e["loc"]) and f[: len(e["loc"])] == tuple(e["loc"]) for f in failed)
    ]


def _item_context(raw: Any, index: int) -> tuple[str, str | None]:
    item_type = raw.get("type") if isinstance(raw, dict) else None
    item_type = item_type if isinstance(item_type, str) and item_type in ITEM_CLASSES else None
    item_id = raw.get("id") if isinstance(raw, dict) else None
    name = item_id if isinstance(item_id, str) and item_id else f"#{index + 1}"
    return (f"{item_type} item {name}" if item_type else f"item {name}"), item_type


def validate_item(
    raw: Any, *, index: int, start_line: int | None
) -> tuple[Any, list[tuple[int | None, str]]]:
    """Validate one raw item; return (item or None, [(line, message), ...])."""
    context, item_type = _item_context(raw, index)
    if not isinstance(raw, dict):
        return None, [
            (start_line, f"{context}: should be a mapping of fields, got {type(raw).__name__}")
        ]
    try:
        return ITEM_ADAPTER.validate_python(raw), []
    except ValidationError as exc:
        errors = _without_cascades(exc.errors())
        out = [
            humanize_error(e, raw, start_line=start_line, context=context, item_type=item_type)
            for e in errors
        ]
        return None, out
    except (RecursionError, ValueError, TypeError) as exc:
        return None, [(start_line, f"{context}: cannot be read ({exc.__class__.__name__})")]


# ------------------------------------------------------------------ loaded content


@dataclass(frozen=True, slots=True)
class Source:
    """Where a level, module or item was defined: file, line, and the line of each key."""

    path: str
    line: int | None
    key_lines: Mapping[str, int] = field(default_factory=dict)
    element_lines: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def line_of(self, key: str, index: int | None = None) -> int | None:
        """Line of ``key`` (or of its ``index``-th list element), else of the whole thing."""
        lines = self.element_lines.get(key, ())
        if index is not None and 0 <= index < len(lines):
            return lines[index]
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True, slots=True)
class LoadedSet:
    path: str
    item_set: ItemSet
    sources: tuple[Source, ...]  # one per item, in order


@dataclass
class LoadedContent:
    """Everything read from a content root, valid parts only, plus every problem found."""

    root: Path
    levels: dict[str, Level] = field(default_factory=dict)
    level_sources: dict[str, Source] = field(default_factory=dict)
    modules: dict[str, Module] = field(default_factory=dict)
    module_sources: dict[str, Source] = field(default_factory=dict)
    lessons: dict[str, str] = field(default_factory=dict)
    sets: list[LoadedSet] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Item set files that could not be read at all (their problem is already reported).
    unreadable_sets: list[str] = field(default_factory=list)

    def problem(self, path: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(path, line, message))


def _source_of(data: Any, path: str, line: int | None = None) -> Source:
    if isinstance(data, LineDict):
        keys = {str(k): v for k, v in data.key_lines.items()}
        elements = {str(k): tuple(v.lines) for k, v in data.items() if isinstance(v, LineList)}
        return Source(path, data.line or line, keys, elements)
    return Source(path, line)


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _load_levels(content: LoadedContent) -> None:
    path = content.root / LEVELS_FILE
    if not path.is_file():
        content.problem(LEVELS_FILE, None, "file not found: the levels must be defined here")
        return
    try:
        data = parse_yaml(read_text(path))
    except FileError as exc:
        content.problem(LEVELS_FILE, exc.line, exc.message)
        return
    if not isinstance(data, LineDict) or not isinstance(data.get("levels"), LineList):
        line = data.line if isinstance(data, (LineDict, LineList)) else 1
        content.problem(LEVELS_FILE, line, "expected a mapping with a 'levels:' list")
        return
    for key in data:
        if key != "levels":
            content.problem(LEVELS_FILE, data.key_lines.get(key), f"unknown field {key!r}")
    raw_levels: LineList = data["levels"]
    for i, raw in enumerate(raw_levels):
        line = raw_levels.lines[i]
        level_id = raw.get("id") if isinstance(raw, dict) else None
        context = f"level {level_id}" if isinstance(level_id, str) else f"level #{i + 1}"
        try:
            level = Level.model_validate(raw)
        except ValidationError as exc:
            for e in exc.errors():
                at, msg = humanize_error(e, raw, start_line=line, context=context)
                content.problem(LEVELS_FILE, at, msg)
            continue
        source = _source_of(raw, LEVELS_FILE, line)
        if level.id in content.levels:
            first = content.level_sources[level.id]
            content.problem(
                LEVELS_FILE, source.line, f"duplicate level {level.id} (first at line {first.line})"
            )
            continue
        content.levels[level.id] = level
        content.level_sources[level.id] = source
    for level in content.levels.values():
        if level.requires is None:
            continue
        source = content.level_sources[level.id]
        if level.requires not in content.levels:
            content.problem(
                LEVELS_FILE,
                source.line_of("requires"),
                f"level {level.id} requires {level.requires}, which is not defined",
            )
        elif LEVEL_ORDER.index(level.requires) >= LEVEL_ORDER.index(level.id):
            content.problem(
                LEVELS_FILE,
                source.line_of("requires"),
                f"level {level.id} requires {level.requires}, which is not an earlier level",
            )
    _check_drift_set_once(content)


def _check_drift_set_once(content: LoadedContent) -> None:
    """The drift rule reads the first level's settings: a trainee's rolling window spans the
    practice of every level, so a different value on a later level could never apply."""
    if not content.levels:
        return
    first = min(content.levels.values(), key=lambda lv: LEVEL_ORDER.index(lv.id))
    for level in content.levels.values():
        if level is first:
            continue
        for name in ("drift_window", "drift_threshold"):
            if name in level.model_fields_set and getattr(level, name) != getattr(first, name):
                content.problem(
                    LEVELS_FILE,
                    content.level_sources[level.id].line_of(name),
                    f"level {level.id}: {name} is set once, on {first.id} (a trainee's "
                    f"rolling agreement spans the practice of every level); remove it here "
                    f"or set {getattr(level, name)} on {first.id}",
                )


def _content_files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")
    )


def _inside(root: Path, base: Path, rel: str) -> Path | None:
    """``base / rel`` if ``rel`` is a plain relative path staying inside ``root``."""
    pure = PurePosixPath(rel.replace("\\", "/"))
    if not rel or pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", rel):
        return None
    target = (base / Path(*pure.parts)).resolve()
    try:
        target.relative_to(root.resolve())
    except ValueError:
        return None
    return target


def _load_modules(content: LoadedContent) -> None:
    root = content.root
    for path in _content_files(root / CURRICULUM, (".yaml", ".yml")):
        rel = _rel(root, path)
        if rel == LEVELS_FILE:
            continue
        try:
            data = parse_yaml(read_text(path))
        except FileError as exc:
            content.problem(rel, exc.line, exc.message)
            continue
        if not isinstance(data, LineDict):
            line = data.line if isinstance(data, LineList) else 1
            content.problem(rel, line, "a module file must be a mapping (id, level, title, ...)")
            continue
        module_id = data.get("id")
        context = f"module {module_id}" if isinstance(module_id, str) else "module"
        try:
            module = Module.model_validate(data)
        except ValidationError as exc:
            for e in exc.errors():
                at, msg = humanize_error(e, data, start_line=data.line, context=context)
                content.problem(rel, at, msg)
            continue
        source = _source_of(data, rel)
        if path.stem != module.id:
            content.problem(
                rel,
                source.line_of("id"),
                f"module {module.id} must be in a file named {module.id}.yaml",
            )
        if not module.id.startswith(module.level + "_"):
            content.problem(
                rel, source.line_of("level"), f"module {module.id} is not in level {module.level}"
            )
        if module.id in content.modules:
            first = content.module_sources[module.id]
            content.problem(
                rel,
                source.line_of("id"),
                f"duplicate module id {module.id} (first at {first.path}:{first.line_of('id')})",
            )
            continue
        content.modules[module.id] = module
        content.module_sources[module.id] = source
        lesson = _inside(root, path.parent, module.lesson)
        if lesson is None:
            content.problem(
                rel,
                source.line_of("lesson"),
                f"module {module.id}: lesson {module.lesson!r} must be a relative path inside "
                "the content folder",
            )
        elif not lesson.is_file():
            content.problem(
                rel,
                source.line_of("lesson"),
                f"module {module.id}: lesson file {module.lesson} not found "
                f"(looked for {_rel(root.resolve(), lesson)})",
            )
        else:
            try:
                content.lessons[module.id] = read_text(lesson)
            except FileError as exc:
                content.problem(_rel(root.resolve(), lesson), exc.line, exc.message)


def _parse_jsonl(text: str) -> LineDict:
    """A JSONL item set as the same line-tree a YAML file gives: header + items."""
    header: LineDict | None = None
    items = LineList()
    for number, raw_line in enumerate(text.split("\n"), start=1):
        if not raw_line.strip():
            continue
        try:
            value = json.loads(raw_line)
        except (json.JSONDecodeError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise FileError(number, f"invalid JSON: {msg}") from exc
        if header is None:
            if not isinstance(value, dict) or "kind" not in value or "items" in value:
                raise FileError(
                    number,
                    'the first line must be the set header, e.g. {"kind": "exam", "level": "L1"}',
                )
            header = _with_lines(value, number)
            continue
        items.append(_with_lines(value, number))
        items.lines.append(number)
    if header is None:
        raise FileError(1, "the file is empty: expected a header line and items")
    items.line = items.lines[0] if items.lines else header.line
    header["items"] = items
    header.key_lines["items"] = items.line
    return header


def _load_item_sets(content: LoadedContent) -> None:
    root = content.root
    base = root / ASSESSMENTS
    for folder, kind in SET_FOLDERS.items():
        for path in _content_files(base / folder, SET_SUFFIXES):
            _load_item_set(content, path, kind)


def _load_item_set(content: LoadedContent, path: Path, folder_kind: str) -> None:
    rel = _rel(content.root, path)
    try:
        text = read_text(path)
        data = _parse_jsonl(text) if path.suffix.lower() == ".jsonl" else parse_yaml(text)
    except FileError as exc:
        content.problem(rel, exc.line, exc.message)
        content.unreadable_sets.append(rel)
        return
    if not isinstance(data, LineDict):
        line = data.line if isinstance(data, LineList) else 1
        content.problem(rel, line, "an item set must be a mapping with kind, level and items")
        content.unreadable_sets.append(rel)
        return

    raw_items = data.get("items")
    valid: list[Any] = []
    sources: list[Source] = []
    item_errors = False
    if isinstance(raw_items, LineList):
        for i, raw in enumerate(raw_items):
            line = raw_items.lines[i] if i < len(raw_items.lines) else raw_items.line
            item, errors = validate_item(raw, index=i, start_line=line)
            for at, msg in errors:
                content.problem(rel, at, msg)
            if item is None:
                item_errors = True
                continue
            valid.append(item)
            sources.append(_source_of(raw, rel, line))

    header = dict(data)
    if isinstance(raw_items, LineList):
        header["items"] = valid
    set_name = f"{data.get('kind')} set" if isinstance(data.get("kind"), str) else "item set"
    try:
        item_set = ItemSet.model_validate(header)
    except ValidationError as exc:
        for e in exc.errors():
            loc = e["loc"]
            if (
                isinstance(raw_items, LineList)
                and loc
                and loc[0] == "items"
                and (item_errors or len(loc) > 1)
            ):
                continue  # already reported per item
            if loc and loc[0] == "items" and len(loc) == 1 and e["type"] == "too_short":
                content.problem(
                    rel, data.key_lines.get("items", data.line), "items: the set has no items"
                )
                continue
            at, msg = humanize_error(e, data, start_line=data.line, context=set_name)
            content.problem(rel, at, msg)
        return
    if item_set.kind != folder_kind:
        content.problem(
            rel,
            data.key_lines.get("kind", data.line),
            f"a file under {ASSESSMENTS}/{_folder_of(folder_kind)}/ must have kind {folder_kind}, "
            f"not {item_set.kind}",
        )
        return
    for item, source in zip(item_set.items, sources, strict=True):
        if not item.id.startswith(item_set.level + "_"):
            content.problem(
                rel,
                source.line_of("id"),
                f"{item.type} item {item.id}: the id must start with {item_set.level}_ "
                f"(the set's level)",
            )
    content.sets.append(LoadedSet(rel, item_set, tuple(sources)))


def _folder_of(kind: str) -> str:
    return next(folder for folder, k in SET_FOLDERS.items() if k == kind)


# ------------------------------------------------------------------ catalog checks


def _check_ids(content: LoadedContent) -> None:
    seen: dict[str, Source] = {}
    for module_id, source in content.module_sources.items():
        seen[module_id] = source
    for loaded in content.sets:
        for item, source in zip(loaded.item_set.items, loaded.sources, strict=True):
            first = seen.get(item.id)
            if first is not None:
                content.problem(
                    source.path,
                    source.line_of("id"),
                    f"duplicate id {item.id}: already used at {first.path}:{first.line_of('id')}",
                )
                continue
            seen[item.id] = source


def _check_prerequisites(content: LoadedContent) -> None:
    modules = content.modules
    for module in modules.values():
        source = content.module_sources[module.id]
        for i, prereq in enumerate(module.prerequisites):
            line = source.line_of("prerequisites", i)
            if prereq not in modules:
                content.problem(
                    source.path,
                    line,
                    f"module {module.id}: prerequisite {prereq} does not exist",
                )
            elif LEVEL_ORDER.index(modules[prereq].level) > LEVEL_ORDER.index(module.level):
                content.problem(
                    source.path,
                    line,
                    f"module {module.id}: prerequisite {prereq} is in a later level "
                    f"({modules[prereq].level})",
                )
    # Depth-first search for cycles; each cycle is reported once, at its smallest module id.
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in modules[node].prerequisites:
            if nxt not in modules:
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first = min(cycle)
                    i = cycle.index(first)
                    ordered = cycle[i:] + cycle[:i] + [first]
                    source = content.module_sources[first]
                    content.problem(
                        source.path,
                        source.line_of("prerequisites"),
                        f"prerequisite cycle: {' -> '.join(ordered)}",
                    )
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for module_id in sorted(modules):
        if module_id not in state:
            visit(module_id, [])


def _check_sets(content: LoadedContent) -> None:
    practiced: set[str] = set()
    for loaded in content.sets:
        item_set = loaded.item_set
        if item_set.level not in content.levels:
            content.problem(
                loaded.path, 1, f"{item_set.kind} set: level {item_set.level} is not defined"
            )
        if item_set.kind == "practice":
            assert item_set.module is not None  # the schema guarantees it
            practiced.add(item_set.module)
            if item_set.module not in content.modules:
                content.problem(
                    loaded.path,
                    1,
                    f"practice set: module {item_set.module} does not exist",
                )
    for module in content.modules.values():
        source = content.module_sources[module.id]
        if module.level not in content.levels:
            content.problem(
                source.path,
                source.line_of("level"),
                f"module {module.id}: level {module.level} is not defined",
            )
        # A practice file that does not parse is reported already; do not report it twice.
        unreadable = any(Path(rel).name.startswith(module.id) for rel in content.unreadable_sets)
        if module.id not in practiced and not unreadable:
            content.problem(
                source.path,
                source.line_of("id"),
                f"module {module.id} has no practice set (expected "
                f"{ASSESSMENTS}/practice/{module.id}.yaml)",
            )


def _check_media(content: LoadedContent) -> None:
    base = content.root / ASSESSMENTS
    for loaded in content.sets:
        for item, source in zip(loaded.item_set.items, loaded.sources, strict=True):
            for key in ("image", "audio"):
                rel = getattr(item, key)
                if rel is None:
                    continue
                target = _inside(base, base, rel)
                if target is None:
                    content.problem(
                        source.path,
                        source.line_of(key),
                        f"{item.type} item {item.id}: {key} {rel!r} must be a relative path "
                        f"inside {ASSESSMENTS}/",
                    )
                elif not target.is_file():
                    content.problem(
                        source.path,
                        source.line_of(key),
                        f"{item.type} item {item.id}: {key} file {rel} not found under "
                        f"{ASSESSMENTS}/",
                    )


def media_references(content: LoadedContent) -> list[str]:
    """Every media path items refer to, sorted, without duplicates."""
    refs = {
        rel
        for loaded in content.sets
        for item in loaded.item_set.items
        for rel in (item.image, item.audio)
        if rel is not None
    }
    return sorted(refs)


def load_content(root: Path) -> LoadedContent:
    """Read and check everything under ``root``; never raises for content problems."""
    content = LoadedContent(root=Path(root))
    if not content.root.is_dir():
        content.problem(str(root), None, "content folder not found")
        return content
    _load_levels(content)
    _load_modules(content)
    _load_item_sets(content)
    _check_ids(content)
    _check_prerequisites(content)
    _check_sets(content)
    _check_media(content)
    content.problems.sort(key=_sort_key)
    return content
