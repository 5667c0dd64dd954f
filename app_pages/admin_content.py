"""Admin: the content bank in force (validation report) and importing a file to an item set."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from evaluator_cert.content.validate import ValidationReport, validate_content
from evaluator_cert.errors import DomainError
from evaluator_cert.services import content_admin
from evaluator_cert.services.content_admin import ImportOptions, UploadImport
from evaluator_cert.ui import state
from evaluator_cert.ui.instructor import plural
from evaluator_cert.ui.widgets import escape_markdown

actor = state.require("admin")
ctx = state.app()
catalog = ctx.catalog()
IMPORTED = "content_import_result"  # (fingerprint of upload + options, UploadImport)


# Validation reads every content file; keyed on the folder so another root is another entry.
@st.cache_data(show_spinner="Checking the content…")
def content_report(content_dir: str) -> ValidationReport:
    return validate_content(Path(content_dir))


def counts(mapping: dict[str, int], key: str) -> pd.DataFrame:
    return pd.DataFrame({key: list(mapping), "items": list(mapping.values())})


st.title("Content bank")

# ------------------------------------------------------------------- the content in force
st.header("Content in force", divider="gray")
content_dir = str(ctx.settings.content_dir)
st.caption(f"Content root: `{content_dir}`")
if st.button("Validate again", icon=":material/refresh:"):
    content_report.clear()
report = content_report(content_dir)

c1, c2, c3, c4 = st.columns(4)
c1.metric("Content version", report.content_version or "none (errors)")
c2.metric("Levels", report.levels)
c3.metric("Modules", report.modules)
c4.metric("Items", report.items)

t1, t2, t3 = st.columns(3)
t1.caption("Items by task type")
t1.dataframe(counts(report.items_by_task_type, "task type"), hide_index=True)
t2.caption("Practice items per module")
t2.dataframe(counts(report.practice_items_by_module, "module"), hide_index=True)
t3.caption("Exam and calibration items per level")
t3.dataframe(
    pd.DataFrame(
        {
            "level": list(report.exam_items_by_level),
            "exam": list(report.exam_items_by_level.values()),
            "calibration": [
                report.calibration_items_by_level.get(lv, 0) for lv in report.exam_items_by_level
            ],
        }
    ),
    hide_index=True,
)

if report.errors:
    st.error(
        f"{plural(len(report.errors), 'error')}: the app cannot load this content until they "
        "are fixed.",
        icon=":material/error:",
    )
    st.code("\n".join(str(p) for p in report.errors), language=None)
else:
    st.success("No errors: the content loads as it is.", icon=":material/check_circle:")
if report.warnings:
    st.warning(
        f"{plural(len(report.warnings), 'warning')}: below what the shipped bank requires.",
        icon=":material/warning:",
    )
    st.code("\n".join(str(p) for p in report.warnings), language=None)
else:
    st.caption("No warnings.")

# ------------------------------------------------------------------------------- import
st.header("Import a file to an item set", divider="gray")
st.caption(
    "CSV or JSONL rows in the item schema (columns id, type, instructions, text, labels "
    "a|b|c, gold, explanation…), or a Label Studio JSON export. The result is a YAML file to "
    "review and place yourself: nothing is written to the content folder here."
)
upload = st.file_uploader(
    "File to import", type=list(content_admin.UPLOAD_TYPES), key="content_upload"
)
# Kind and level sit outside the form so the module list follows the chosen level.
k1, k2 = st.columns(2)
kind = k1.selectbox("Kind of set", content_admin.KINDS, key="import_kind")
level = k2.selectbox("Level", [lv.id for lv in catalog.levels], key="import_level")
is_label_studio = upload is not None and upload.name.lower().endswith(".json")

with st.form("content_import"):
    module = None
    if kind == "practice":
        modules = [m.id for m in catalog.modules_of(level)]
        module = st.selectbox(
            "Module",
            modules,
            format_func=lambda m: f"{m} · {catalog.module(m).title}",
            key="import_module",
        )
    id_prefix = st.text_input(
        "Id prefix",
        placeholder=f"{level}_X (rows without an id get prefix + 001, 002…)",
        max_chars=40,
        key="import_id_prefix",
    )
    title = st.text_input("Title (optional)", max_chars=200, key="import_title")
    default_explanation = ""
    if is_label_studio:
        default_explanation = st.text_area(
            "Default explanation (optional, for tasks that carry none)",
            max_chars=2000,
            key="import_default_explanation",
        )
    submitted = st.form_submit_button("Import", icon=":material/upload_file:")

if upload is None:
    st.session_state.pop(IMPORTED, None)
    st.info("Choose a file to import.", icon=":material/upload:")
    st.stop()

options = ImportOptions(
    kind=kind,
    level=level,
    module=module,
    id_prefix=id_prefix.strip() or None,
    title=title.strip() or None,
    default_explanation=default_explanation.strip() or None,
)
data = upload.getvalue()
# The result stays on screen (after Download too) while the file and choices are unchanged.
fingerprint = hashlib.sha256(repr((upload.name, data, options)).encode()).hexdigest()
if submitted:
    try:
        result = content_admin.import_upload(upload.name, data, options)
    except DomainError as exc:
        st.session_state.pop(IMPORTED, None)
        # File names and parser messages: no Markdown reading of them.
        st.error(escape_markdown(str(exc)), icon=":material/error:")
        st.stop()
    st.session_state[IMPORTED] = (fingerprint, result)

stored = st.session_state.get(IMPORTED)
if not stored or stored[0] != fingerprint:
    st.stop()
outcome: UploadImport = stored[1]

st.subheader(f"Import report: {outcome.file_name}")
m1, m2 = st.columns(2)
m1.metric("Imported", len(outcome.imported))
m2.metric("Skipped", len(outcome.skipped))
if outcome.problems:
    st.error(
        "The item set as a whole is not valid, so nothing can be exported:",
        icon=":material/error:",
    )
    st.code("\n".join(outcome.problems), language=None)
if outcome.skipped:
    st.caption("Skipped rows (numbers are file lines for CSV/JSONL, task numbers for JSON)")
    st.dataframe(
        pd.DataFrame(
            {
                "line": [s.number for s in outcome.skipped],
                "reason": [s.reason for s in outcome.skipped],
            }
        ),
        hide_index=True,
        width="stretch",
    )
if outcome.imported:
    with st.expander(f"Imported items ({len(outcome.imported)})"):
        st.dataframe(
            pd.DataFrame(
                {
                    "line": [i.number for i in outcome.imported],
                    "id": [i.item_id for i in outcome.imported],
                    "type": [i.item_type for i in outcome.imported],
                }
            ),
            hide_index=True,
            width="stretch",
        )

if outcome.yaml_text is None:
    if not outcome.problems:
        st.warning("No row could be imported, so there is no item set.", icon=":material/warning:")
    st.stop()

file_name = outcome.destination.rsplit("/", 1)[-1]
st.download_button(
    "Download item set (YAML)",
    outcome.yaml_text,
    file_name,
    "application/yaml",
    on_click="ignore",
    icon=":material/download:",
    key="import_download",
)
st.info(
    f"Review the file, then save it as `{outcome.destination}` under the content root "
    "(any file name in that folder works; sets with the same kind and level or module are "
    "merged). Restart the app to load it, and use **Validate again** above to check it.",
    icon=":material/info:",
)
with st.expander("Preview"):
    st.code(outcome.yaml_text[:5000], language="yaml")
