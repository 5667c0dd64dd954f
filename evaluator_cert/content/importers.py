"""Import items from Label Studio exports, JSONL or CSV into an item set file.

Each importer returns an :class:`ImportReport`: the :class:`ItemSet` built from what could be
imported (``None`` when nothing could), one row per imported item and one per skipped
task/row with the reason. ``write_item_set`` writes YAML (or JSONL) the loader reads back
to the same models.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import ValidationError

from evaluator_cert.content.loader import humanize_error, validate_item
from evaluator_cert.content.schema import ItemSet
from evaluator_cert.text import tokenize

# Label Studio result types we know how to turn into an item.
_LS_KINDS = {
    "choices": "classification",
    "rating": "rubric_rating",
    "labels": "span",
    "rectanglelabels": "bounding_box",
    "textarea": "transcription",
}
# A textarea with one of these names carries the expert explanation, not a transcript.
_EXPLANATION_NAMES = ("explanation", "rationale")
_DEFAULT_INSTRUCTIONS = {
    "classification": "Choose the label that fits the material.",
    "rubric_rating": "Rate the response on each dimension.",
    "span": "Mark every phrase that carries one of the labels.",
    "bounding_box": "Draw a box around every object that carries one of the labels.",
    "transcription": "Transcribe the clip verbatim.",
}
# CSV cells of these fields are lists written as a|b|c.
_LIST_FIELDS = ("labels", "tags", "dimensions", "choices")


@dataclass(frozen=True, slots=True)
class Imported:
    number: int  # task number (1-based) or file line of the row
    item_id: str
    item_type: str


@dataclass(frozen=True, slots=True)
class Skipped:
    number: int
    reason: str


@dataclass
class ImportReport:
    source: str
    item_set: ItemSet | None = None
    imported: list[Imported] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{self.source}: imported {len(self.imported)}, skipped {len(self.skipped)}"]
        lines += [f"  imported #{r.number}: {r.item_id} ({r.item_type})" for r in self.imported]
        lines += [f"  skipped #{r.number}: {r.reason}" for r in self.skipped]
        return "\n".join(lines)


class _SkipError(Exception):
    """A task or row that cannot become an item; the message says why."""


# ------------------------------------------------------------------------ building sets


def _finish(
    report: ImportReport,
    items: list[tuple[int, dict[str, Any]]],
    *,
    kind: str,
    level: str,
    module: str | None,
    title: str | None,
) -> ImportReport:
    """Validate each built item, drop duplicates and invalid ones, assemble the set."""
    valid = []
    seen: set[str] = set()
    for number, raw in items:
        item, errors = validate_item(raw, index=number - 1, start_line=None)
        if errors:
            report.skipped.append(Skipped(number, "; ".join(msg for _, msg in errors)))
            continue
        if item.id in seen:
            report.skipped.append(Skipped(number, f"duplicate id {item.id}"))
            continue
        seen.add(item.id)
        valid.append(item)
        report.imported.append(Imported(number, item.id, item.type))
    report.skipped.sort(key=lambda s: s.number)
    if not valid:
        return report
    header: dict[str, Any] = {"kind": kind, "level": level, "items": valid}
    if module is not None:
        header["module"] = module
    if title is not None:
        header["title"] = title
    try:
        report.item_set = ItemSet.model_validate(header)
    except ValidationError as exc:
        reasons = [
            humanize_error(e, header, start_line=None, context="set")[1] for e in exc.errors()
        ]
        raise ValueError("; ".join(reasons)) from exc
    return report


def _make_id(id_prefix: str, n: int) -> str:
    return f"{id_prefix}{n:03d}"


# ------------------------------------------------------------------------ Label Studio


def _ls_annotation(task: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The result list of the annotation taken as gold: ground truth first, else the first."""
    annotations = [
        a
        for a in task.get("annotations") or []
        if isinstance(a, Mapping) and not a.get("was_cancelled")
    ]
    if not annotations:
        raise _SkipError("no annotation (or only cancelled ones)")
    chosen = next((a for a in annotations if a.get("ground_truth")), annotations[0])
    result = chosen.get("result")
    if not isinstance(result, list) or not result:
        raise _SkipError("the annotation has no result")
    return [r for r in result if isinstance(r, Mapping)]


def _media_ref(url: Any, media_dir: str) -> str:
    """Label Studio stores an upload URL; the item refers to media/<dir>/<file name>."""
    if not isinstance(url, str) or not url:
        raise _SkipError("the task data has no media URL")
    name = PurePosixPath(url.split("?")[0].replace("\\", "/")).name
    if not name:
        raise _SkipError(f"cannot take a file name from {url!r}")
    return f"{media_dir.rstrip('/')}/{name}"


def _span_gold(text: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """Character offsets -> the phrase and which occurrence of it (on token boundaries)."""
    start, end = value.get("start"), value.get("end")
    labels = value.get("labels") or []
    if not isinstance(start, int) or not isinstance(end, int) or not labels:
        raise _SkipError("a labels result lacks start/end offsets or a label")
    tokens = tokenize(text)
    first = next((t for t in tokens if t.start == start), None)
    last = next((t for t in tokens if t.end == end), None)
    if first is None or last is None or last.index < first.index:
        raise _SkipError(
            f"span {text[start:end]!r} at {start}-{end} does not fall on token boundaries"
        )
    phrase = [t.text for t in tokens[first.index : last.index + 1]]
    occurrence = 1 + sum(
        1 for i in range(first.index) if [t.text for t in tokens[i : i + len(phrase)]] == phrase
    )
    gold: dict[str, Any] = {"text": text[start:end], "label": str(labels[0])}
    if occurrence != 1:
        gold["occurrence"] = occurrence
    return gold


def _ls_item(
    task: Mapping[str, Any],
    results: list[Mapping[str, Any]],
    *,
    item_id: str,
    labels: Sequence[str] | None,
    seen_labels: Mapping[str, list[str]],
    instructions: str | None,
    default_explanation: str | None,
    scale_max: int | None,
    image_dir: str,
    audio_dir: str,
) -> dict[str, Any]:
    data = task.get("data")
    if not isinstance(data, Mapping):
        raise _SkipError("the task has no data")
    explanation = data.get("explanation")
    answer_results = []
    for r in results:
        if r.get("type") == "textarea" and r.get("from_name") in _EXPLANATION_NAMES:
            texts = (r.get("value") or {}).get("text") or []
            explanation = " ".join(str(t) for t in texts) or explanation
        else:
            answer_results.append(r)
    kinds = {_LS_KINDS.get(str(r.get("type"))) for r in answer_results}
    if None in kinds:
        unknown = sorted({str(r.get("type")) for r in answer_results} - set(_LS_KINDS))
        raise _SkipError(f"result type(s) not supported: {', '.join(unknown)}")
    if len(kinds) != 1:
        raise _SkipError(f"mixed result types in one task: {', '.join(sorted(map(str, kinds)))}")
    item_type = kinds.pop()
    assert item_type is not None
    item: dict[str, Any] = {
        "id": item_id,
        "type": item_type,
        "instructions": data.get("instructions")
        or instructions
        or _DEFAULT_INSTRUCTIONS[item_type],
    }
    for key in ("prompt", "text", "response"):
        if isinstance(data.get(key), str):
            item[key] = data[key]
    values = [r.get("value") or {} for r in answer_results]

    if item_type == "classification":
        chosen = values[0].get("choices") or []
        if len(chosen) != 1:
            raise _SkipError(f"classification needs exactly one choice, got {len(chosen)}")
        name = str(answer_results[0].get("from_name"))
        item["labels"] = list(labels) if labels else seen_labels.get(name, [])
        item["gold"] = str(chosen[0])
        if "image" in data:
            item["image"] = _media_ref(data["image"], image_dir)
        if "audio" in data:
            item["audio"] = _media_ref(data["audio"], audio_dir)
    elif item_type == "rubric_rating":
        gold = {
            str(r.get("from_name")): (r.get("value") or {}).get("rating") for r in answer_results
        }
        if "response" not in item:
            if "text" not in item:
                raise _SkipError("rubric_rating needs data.response (or data.text) to rate")
            item["response"] = item.pop("text")
        item["dimensions"] = list(gold)
        item["gold"] = gold
        top = max((v for v in gold.values() if isinstance(v, int)), default=5)
        item["scale_max"] = scale_max or (7 if top > 5 else 5)
    elif item_type == "span":
        text = item.get("text")
        if not isinstance(text, str):
            raise _SkipError("span needs data.text")
        gold_spans = [_span_gold(text, v) for v in values]
        item["gold"] = gold_spans
        names = {str(r.get("from_name")) for r in answer_results}
        item["labels"] = list(labels) if labels else _merge(seen_labels.get(n, []) for n in names)
    elif item_type == "bounding_box":
        item["image"] = _media_ref(data.get("image"), image_dir)
        first = answer_results[0]
        width, height = first.get("original_width"), first.get("original_height")
        if not isinstance(width, int) or not isinstance(height, int):
            raise _SkipError("rectanglelabels results need original_width and original_height")
        item["width"], item["height"] = width, height
        boxes = []
        for v in values:
            try:
                x, y, w, h = (float(v[k]) for k in ("x", "y", "width", "height"))
                label = str((v.get("rectanglelabels") or [None])[0])
            except (KeyError, TypeError, ValueError) as exc:
                raise _SkipError("a rectanglelabels result lacks x/y/width/height") from exc
            # Percentages of the original image -> pixels, clamped against rounding drift.
            x0, y0 = max(0.0, x * width / 100), max(0.0, y * height / 100)
            x1, y1 = (
                min(float(width), (x + w) * width / 100),
                min(float(height), (y + h) * height / 100),
            )
            boxes.append({"label": label, "box": [round(c, 2) for c in (x0, y0, x1, y1)]})
        item["gold"] = boxes
        names = {str(r.get("from_name")) for r in answer_results}
        item["labels"] = list(labels) if labels else _merge(seen_labels.get(n, []) for n in names)
    else:  # transcription
        item["audio"] = _media_ref(data.get("audio"), audio_dir)
        texts = values[0].get("text") or []
        item["gold"] = " ".join(str(t) for t in texts).strip()
    if not explanation:
        explanation = default_explanation
    if not isinstance(explanation, str) or not explanation.strip():
        raise _SkipError(
            "no explanation (add data.explanation, a textarea named 'explanation', "
            "or pass default_explanation)"
        )
    item["explanation"] = explanation.strip()
    return item


def _merge(groups: Iterable[list[str]]) -> list[str]:
    out: list[str] = []
    for group in groups:
        out += [g for g in group if g not in out]
    return out


def _ls_seen_labels(tasks: list[Any]) -> dict[str, list[str]]:
    """Every label each control used across the export, in order of first use."""
    seen: dict[str, list[str]] = {}
    for task in tasks:
        if not isinstance(task, Mapping):
            continue
        for annotation in task.get("annotations") or []:
            if not isinstance(annotation, Mapping):
                continue
            for r in annotation.get("result") or []:
                if not isinstance(r, Mapping) or not isinstance(r.get("value"), Mapping):
                    continue
                value = r["value"]
                for key in ("choices", "labels", "rectanglelabels"):
                    names = value.get(key)
                    if isinstance(names, list):
                        bucket = seen.setdefault(str(r.get("from_name")), [])
                        bucket += [str(n) for n in names if str(n) not in bucket]
    return seen


def import_label_studio(
    path: Path,
    *,
    kind: str,
    level: str,
    module: str | None = None,
    id_prefix: str,
    title: str | None = None,
    labels: Sequence[str] | None = None,
    instructions: str | None = None,
    default_explanation: str | None = None,
    scale_max: int | None = None,
    image_dir: str = "media/images",
    audio_dir: str = "media/audio",
) -> ImportReport:
    """Import a Label Studio JSON export (a list of tasks).

    The gold of a task is its ground-truth annotation, else its first non-cancelled one.
    ``choices`` -> classification, ``rating`` -> rubric_rating (one dimension per control),
    ``labels`` -> span, ``rectanglelabels`` -> bounding_box, ``textarea`` -> transcription.
    The label set is ``labels`` if given, else every label the export uses for that control.
    Media files are referenced as ``<image_dir|audio_dir>/<file name>``: copy them there.
    """
    report = ImportReport(source=str(path))
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable Label Studio JSON export ({exc})") from exc
    if not isinstance(tasks, list):
        raise ValueError(f"{path}: a Label Studio export is a JSON list of tasks")
    seen_labels = _ls_seen_labels(tasks)
    built: list[tuple[int, dict[str, Any]]] = []
    for number, task in enumerate(tasks, start=1):
        try:
            if not isinstance(task, Mapping):
                raise _SkipError("not a task object")
            results = _ls_annotation(task)
            item = _ls_item(
                task,
                results,
                item_id=_make_id(id_prefix, len(built) + 1),
                labels=labels,
                seen_labels=seen_labels,
                instructions=instructions,
                default_explanation=default_explanation,
                scale_max=scale_max,
                image_dir=image_dir,
                audio_dir=audio_dir,
            )
        except _SkipError as exc:
            task_id = task.get("id") if isinstance(task, Mapping) else None
            tag = f" (Label Studio id {task_id})" if task_id is not None else ""
            report.skipped.append(Skipped(number, f"{exc}{tag}"))
            continue
        built.append((number, item))
    return _finish(report, built, kind=kind, level=level, module=module, title=title)


# -------------------------------------------------------------------------- JSONL / CSV


def _cell(name: str, value: str) -> Any:
    value = value.strip()
    if name in _LIST_FIELDS and not value.startswith("["):
        return [v.strip() for v in value.split("|") if v.strip()]
    if value[:1] in "[{" or name in ("min_words", "width", "height", "scale_max", "scale_min"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if name == "allow_tie":
        return value.lower() in ("1", "true", "yes")
    return value


def _csv_rows(path: Path) -> Iterable[tuple[int, dict[str, Any] | str]]:
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "type" not in reader.fieldnames:
            raise ValueError(f"{path}: the CSV header must name at least a 'type' column")
        for row in reader:
            number = reader.line_num
            if None in row:
                yield number, "more cells than header columns"
                continue
            yield (
                number,
                {k: _cell(k, v) for k, v in row.items() if k and v is not None and v.strip()},
            )


def _jsonl_rows(path: Path) -> Iterable[tuple[int, dict[str, Any] | str]]:
    text = Path(path).read_text(encoding="utf-8-sig")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"invalid JSON: {exc.msg}"
            continue
        if not isinstance(value, dict):
            yield number, "a line must be one JSON object (an item)"
        elif "kind" in value and "type" not in value:
            continue  # a set header, as in the loader's JSONL files
        else:
            yield number, value


def import_rows(
    path: Path,
    *,
    kind: str,
    level: str,
    module: str | None = None,
    id_prefix: str | None = None,
    title: str | None = None,
) -> ImportReport:
    """Import items in our own schema, one per JSONL line or CSV row.

    CSV columns: id, type, instructions, text, labels (a|b|c), gold, explanation, difficulty,
    tags (a|b); any other item field may be added as a column, and a cell starting with
    ``[`` or ``{`` is read as JSON (e.g. a ranking gold ``["B", "A", "C"]``). Rows without
    an id get ``id_prefix`` + a running number. Numbers in the report are file lines.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{path}: expected a .csv or .jsonl file")
    report = ImportReport(source=str(path))
    rows = _csv_rows(path) if suffix == ".csv" else _jsonl_rows(path)
    built: list[tuple[int, dict[str, Any]]] = []
    for number, row in rows:
        if isinstance(row, str):
            report.skipped.append(Skipped(number, row))
            continue
        if not row.get("id"):
            if id_prefix is None:
                report.skipped.append(Skipped(number, "no id (and no id_prefix to make one)"))
                continue
            row["id"] = _make_id(id_prefix, len(built) + 1)
        built.append((number, row))
    return _finish(report, built, kind=kind, level=level, module=module, title=title)


# ---------------------------------------------------------------------------- writing

_FIRST_KEYS = ("id", "type", "instructions")
_LAST_KEYS = ("gold", "explanation")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _ordered_item(item: Any) -> dict[str, Any]:
    data = _plain(item.model_dump(mode="python", exclude_defaults=True))
    data["type"] = item.type  # the discriminator is needed even though it is a literal
    keys = [k for k in _FIRST_KEYS if k in data]
    keys += [k for k in data if k not in _FIRST_KEYS and k not in _LAST_KEYS]
    keys += [k for k in _LAST_KEYS if k in data]
    return {k: data[k] for k in keys}


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list_representer(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    # Short lists of plain values (labels, tags, boxes) read best on one line.
    flat = all(
        isinstance(v, (int, float, bool)) or (isinstance(v, str) and "\n" not in v) for v in value
    )
    short = flat and sum(len(str(v)) + 2 for v in value) <= 60
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=short)


_Dumper.add_representer(str, _str_representer)
_Dumper.add_representer(list, _list_representer)


def item_set_document(item_set: ItemSet) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": item_set.kind, "level": item_set.level}
    if item_set.module is not None:
        doc["module"] = item_set.module
    if item_set.title is not None:
        doc["title"] = item_set.title
    doc["items"] = [_ordered_item(i) for i in item_set.items]
    return doc


def item_set_yaml(item_set: ItemSet) -> str:
    """The set as the YAML text ``write_item_set`` writes (for a download, say)."""
    return yaml.dump(
        item_set_document(item_set),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        indent=2,
    )


def write_item_set(item_set: ItemSet, path: Path) -> None:
    """Write the set as YAML (or JSONL when ``path`` ends in .jsonl) for the loader."""
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        doc = item_set_document(item_set)
        items = doc.pop("items")
        lines = [json.dumps(doc, ensure_ascii=False)]
        lines += [json.dumps(i, ensure_ascii=False) for i in items]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    path.write_text(item_set_yaml(item_set), encoding="utf-8")


# -------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m evaluator_cert.content.importers {label-studio|rows} FILE --out SET ...``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m evaluator_cert.content.importers",
        description="Import items into an item set file the content loader reads.",
    )
    parser.add_argument("source", choices=["label-studio", "rows"])
    parser.add_argument("path", type=Path, help="Label Studio JSON export, or .csv/.jsonl rows")
    parser.add_argument("--out", type=Path, required=True, help="item set to write (.yaml/.jsonl)")
    parser.add_argument("--kind", choices=["practice", "exam", "calibration"], required=True)
    parser.add_argument("--level", choices=["L1", "L2", "L3"], required=True)
    parser.add_argument("--module", help="module id (practice sets only)")
    parser.add_argument("--id-prefix", help="prefix of generated ids, e.g. L2_X")
    parser.add_argument("--title")
    parser.add_argument("--labels", help="label set, a|b|c (Label Studio only)")
    parser.add_argument("--default-explanation", help="for tasks without one (Label Studio)")
    args = parser.parse_args(argv)
    try:
        if args.source == "label-studio":
            if not args.id_prefix:
                parser.error("--id-prefix is required for Label Studio imports")
            report = import_label_studio(
                args.path,
                kind=args.kind,
                level=args.level,
                module=args.module,
                id_prefix=args.id_prefix,
                title=args.title,
                labels=args.labels.split("|") if args.labels else None,
                default_explanation=args.default_explanation,
            )
        else:
            report = import_rows(
                args.path,
                kind=args.kind,
                level=args.level,
                module=args.module,
                id_prefix=args.id_prefix,
                title=args.title,
            )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}")
        return 1
    print(report.summary())
    if report.item_set is None:
        print("nothing imported; no file written")
        return 1
    write_item_set(report.item_set, args.out)
    print(f"wrote {len(report.item_set.items)} items to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
