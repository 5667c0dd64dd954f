"""Admin content tools: turn an uploaded file into a YAML item set the loader reads.

The importers take a path, so the upload is written to a temporary folder under its own
file name; messages then name the file the admin chose, never the temporary path.
Nothing here writes into the content folder: the admin reviews the YAML and places it.
"""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from evaluator_cert.content.importers import (
    Imported,
    ImportReport,
    Skipped,
    import_label_studio,
    import_rows,
    item_set_yaml,
)
from evaluator_cert.errors import InvalidInputError

KINDS = ("practice", "exam", "calibration")
UPLOAD_TYPES = ("csv", "jsonl", "json")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Where each kind of set lives under the content root (docs/content-authoring.md, Folders).
_FOLDERS = {
    "practice": "assessments/practice",
    "exam": "assessments/exams",
    "calibration": "assessments/calibration",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    kind: str
    level: str
    module: str | None = None
    id_prefix: str | None = None
    title: str | None = None
    default_explanation: str | None = None  # Label Studio only


@dataclass
class UploadImport:
    """What an upload became: the report rows, set-level problems and the YAML, if any."""

    file_name: str
    imported: list[Imported] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the set as a whole is not valid
    yaml_text: str | None = None
    destination: str = ""  # suggested path under the content root

    @property
    def ok(self) -> bool:
        return self.yaml_text is not None


def destination_for(options: ImportOptions) -> str:
    """A file name under the folder the loader reads this kind of set from."""
    stem = options.module if options.kind == "practice" and options.module else options.level
    return f"{_FOLDERS[options.kind]}/{stem}_imported.yaml"


def _check(file_name: str, data: bytes, options: ImportOptions) -> str:
    """The lower-cased extension, once the upload and the options make sense together."""
    suffix = PurePath(file_name).suffix.lower().lstrip(".")
    if suffix not in UPLOAD_TYPES:
        raise InvalidInputError(
            f"{file_name}: expected a .csv, .jsonl or .json (Label Studio export) file."
        )
    if not data.strip():
        raise InvalidInputError(f"{file_name}: the file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(
            f"{file_name}: the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB; "
            "split it or use the command line importer."
        )
    if options.kind not in KINDS:
        raise InvalidInputError(f"Unknown kind {options.kind!r}; choose one of {', '.join(KINDS)}.")
    if options.kind == "practice" and not options.module:
        raise InvalidInputError("A practice set belongs to a module: choose one.")
    if options.kind != "practice" and options.module:
        raise InvalidInputError("Only practice sets name a module.")
    if suffix == "json" and not options.id_prefix:
        raise InvalidInputError(
            f"Label Studio imports need an id prefix, e.g. {options.level}_X for exam items."
        )
    if options.id_prefix and not options.id_prefix.startswith(f"{options.level}_"):
        raise InvalidInputError(
            f"Item ids must start with the level: the id prefix should start with "
            f"{options.level}_ (for example {options.level}_X)."
        )
    return suffix


def import_upload(file_name: str, data: bytes, options: ImportOptions) -> UploadImport:
    """Import an uploaded CSV/JSONL (our item schema) or Label Studio JSON export.

    Raises ``InvalidInputError`` naming the file (and the line, where the parser knows it)
    when the file cannot be read at all; rows that cannot become items are reported as
    skipped instead.
    """
    name = PurePath(file_name).name or "upload"
    suffix = _check(name, data, options)
    result = UploadImport(file_name=name, destination=destination_for(options))
    with tempfile.TemporaryDirectory() as folder:
        # A plain name keeps the importers' own path checks (the extension) meaningful.
        path = Path(folder) / (_SAFE_NAME.sub("_", PurePath(name).stem) or "upload")
        path = path.with_suffix(f".{suffix}")
        path.write_bytes(data)
        try:
            report: ImportReport
            common = {"kind": options.kind, "level": options.level, "module": options.module}
            if suffix == "json":
                assert options.id_prefix is not None  # _check made sure
                report = import_label_studio(
                    path,
                    **common,
                    id_prefix=options.id_prefix,
                    title=options.title,
                    default_explanation=options.default_explanation,
                )
            else:
                report = import_rows(
                    path, **common, id_prefix=options.id_prefix, title=options.title
                )
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{name}: the file is not UTF-8 text.") from exc
        except csv.Error as exc:
            raise InvalidInputError(f"{name}: not a readable CSV file ({exc}).") from exc
        except (OSError, ValueError) as exc:
            message = str(exc).replace(str(path), name)
            if not message.startswith(name):
                # The rows were read but the set header is invalid (_finish's message).
                result.problems = [p.strip() for p in message.split(";") if p.strip()]
                return result
            raise InvalidInputError(message.rstrip(".") + ".") from exc
    result.imported = list(report.imported)
    result.skipped = list(report.skipped)
    if report.item_set is not None:
        result.yaml_text = item_set_yaml(report.item_set)
    return result
