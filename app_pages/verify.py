"""Verify a credential: public, no login. By id (``?id=`` deep link), by pasted JWT, or in
bulk from a CSV of ids."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from evaluator_cert.db.models import utcnow
from evaluator_cert.services import credentials as creds
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors

MAX_UPLOAD_BYTES = 1024 * 1024  # ~25,000 ids; bigger lists belong on the bulk API
MAX_CSV_IDS = 10_000
CHUNK = 200
CHECK_LABELS = {
    "signature": "Signature",
    "claims": "Claims match the credential",
    "not_before": "Already valid",
    "expiry": "Not expired",
    "status": "Not revoked",
}

ctx = state.app()
settings = ctx.settings


def _date(value: str | None) -> str:
    if not value:
        return "-"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{moment.day} {moment:%B %Y}"


def show_verdict(facts: dict[str, Any] | None, asked: str) -> None:
    if facts is None:
        st.error(
            f"### Unknown\nNo credential with the id `{asked}` was issued by "
            f"{settings.issuer_name}. Check the id for typing mistakes.",
            icon=":material/help:",
        )
        return
    status = facts["status"]
    if status == "active":
        st.success(
            f"### Valid\nThis credential was issued by {settings.issuer_name} and is in force.",
            icon=":material/verified:",
        )
    elif status == "expired":
        st.warning(
            f"### Expired\nThis credential was genuine but expired on "
            f"{_date(facts['valid_until'])}.",
            icon=":material/event_busy:",
        )
    else:
        reason = facts.get("revocation_reason") or "no reason given"
        st.error(
            f"### Revoked\n{settings.issuer_name} has withdrawn this credential: {reason}",
            icon=":material/block:",
        )
    achievement = facts.get("achievement") or {}
    rows = [
        ("Issuer", f"{settings.issuer_name} ({settings.base_url})"),
        ("Credential", achievement.get("name") or facts["level"]),
        ("Level", facts["level"]),
        ("Holder", facts.get("holder_name") or "Not shown (the holder keeps their name private)"),
        ("Issued", _date(facts["issued_at"])),
        ("Valid until", _date(facts["valid_until"])),
        ("Credential ID", f"`{facts['id']}`"),
    ]
    st.markdown("\n".join(f"- **{label}:** {value}" for label, value in rows))
    if achievement.get("criteria"):
        with st.expander("What this credential certifies"):
            st.write(achievement.get("description") or "")
            st.write(achievement["criteria"])
    c1, c2 = st.columns(2)
    slug = facts["id"].removeprefix("urn:uuid:")
    c1.download_button(
        "Download JSON",
        json.dumps(facts, indent=2),
        f"credential-{slug}.json",
        "application/json",
        icon=":material/data_object:",
    )
    if facts.get("credential_jwt"):
        c2.download_button(
            "Download signed JWT",
            facts["credential_jwt"],
            f"credential-{slug}.jwt",
            "application/jwt",
            icon=":material/key:",
        )


def show_checks(checks: dict[str, dict[str, Any]]) -> None:
    for name, check in checks.items():
        mark = ":green[:material/check_circle:]" if check["ok"] else ":red[:material/cancel:]"
        st.markdown(f"{mark} **{CHECK_LABELS.get(name, name)}**: {check['detail']}")


st.title("Verify a credential")
st.caption(
    f"Check a credential issued by {settings.issuer_name}: by its ID or link, by its signed "
    "token, or many at once. No account needed."
)

by_id, by_jwt, bulk = st.tabs(["By ID", "Paste a signed token", "Bulk check (CSV)"])

with by_id:
    # A keyed field seeded once from the address: a `value=` that follows the address would
    # give the field a new identity after each check and drop every second entry.
    if "verify_id" not in st.session_state:
        st.session_state["verify_id"] = st.query_params.get("id", "")
    asked = st.text_input(
        "Credential ID or share link",
        key="verify_id",
        placeholder="urn:uuid:..., the bare UUID, or a link ending in /verify?id=...",
        max_chars=creds.MAX_ID_TEXT_LENGTH,
    ).strip()
    credential_id = creds.credential_id_from_text(asked) if asked else None
    if asked and credential_id is None:
        st.error(
            "This is not a credential ID or share link. An ID looks like "
            "`urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427` (the `urn:uuid:` part may be "
            "left out); a share link ends in `/verify?id=` followed by the ID.",
            icon=":material/error:",
        )
    elif credential_id is not None:
        if st.query_params.get("id") != credential_id:
            st.query_params["id"] = credential_id  # keep the address shareable
        with user_errors(), ctx.session() as session:
            show_verdict(creds.public_facts(session, credential_id, utcnow()), credential_id)

with by_jwt:
    with st.form("jwt"):
        token = st.text_area(
            "Signed credential (JWT)",
            height=150,
            max_chars=100_000,
            placeholder="eyJ...",
            help="The token the holder shared, or the one in a credential JSON download.",
        )
        checked = st.form_submit_button("Check the token", type="primary")
    if checked:
        token = token.strip()
        if not token:
            st.warning("Paste a token first.")
        else:
            with user_errors(), ctx.session() as session:
                result, facts = creds.check_token(session, settings, token, utcnow())
            if result.valid:
                st.success("### Valid\nEvery check passed.", icon=":material/verified:")
            else:
                st.error(f"### Not valid\n{result.reason}", icon=":material/gpp_bad:")
            show_checks(result.checks)
            if facts is not None:
                st.caption(f"Credential {facts['id']}: {facts['status']}")

with bulk:
    st.write(
        "Upload a CSV with one credential ID or share link per row (a column named `id`, "
        f"or the first column). Up to {MAX_CSV_IDS:,} IDs and {MAX_UPLOAD_BYTES // 1024} KB."
    )
    upload = st.file_uploader("CSV of credential IDs", type=["csv", "txt"], key="bulk_csv")
    if upload is not None:
        data = upload.getvalue()
        ids: list[str] | None = None
        if len(data) > MAX_UPLOAD_BYTES:
            st.error(
                f"This file is {len(data) // 1024} KB; the limit is "
                f"{MAX_UPLOAD_BYTES // 1024} KB. Split it, or use the bulk API."
            )
        else:
            try:
                ids = creds.ids_from_csv(data)
            except (UnicodeDecodeError, ValueError, pd.errors.ParserError):
                st.error("This file is not a readable CSV (UTF-8 text, comma separated).")
        if ids is not None and not ids:
            st.warning("The file holds no IDs.")
        elif ids is not None and len(ids) > MAX_CSV_IDS:
            st.error(f"The file holds {len(ids):,} IDs; the limit is {MAX_CSV_IDS:,}.")
        elif ids:
            bar = st.progress(0.0, text="Checking...")
            rows: list[dict[str, Any]] = []
            with ctx.session() as session:
                for start in range(0, len(ids), CHUNK):
                    rows += creds.verify_many(session, ids[start : start + CHUNK], utcnow())
                    done = min(start + CHUNK, len(ids))
                    bar.progress(done / len(ids), text=f"Checked {done} of {len(ids)}")
            result_frame = pd.DataFrame(rows)
            counts = result_frame["status"].value_counts()
            st.write(" · ".join(f"**{counts.get(k, 0)}** {k}" for k in creds.BULK_STATUSES))
            st.dataframe(result_frame, hide_index=True, width="stretch")
            st.download_button(
                "Download results (CSV)",
                result_frame.to_csv(index=False),
                "verification-results.csv",
                "text/csv",
                icon=":material/download:",
            )
