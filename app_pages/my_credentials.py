"""My credentials: status, share link and QR code, PDF certificate, LinkedIn, downloads."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

import streamlit as st

from evaluator_cert.credentials import certificate_pdf, qr_png
from evaluator_cert.services import accounts
from evaluator_cert.services import credentials as creds
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors

actor = state.require("trainee")
ctx = state.app()
settings = ctx.settings

STATUS_BADGE = {
    "active": ":green-badge[:material/verified: Active]",
    "expired": ":orange-badge[:material/event_busy: Expired]",
    "revoked": ":red-badge[:material/block: Revoked]",
}


@st.cache_data(show_spinner=False, max_entries=64)
def _pdf(
    holder: str,
    level_title: str,
    name: str,
    issued: datetime,
    until: datetime,
    cid: str,
    url: str,
    issuer: str,
) -> bytes:
    return certificate_pdf(
        holder_name=holder,
        level_title=level_title,
        achievement_name=name,
        issued=issued,
        valid_until=until,
        credential_id=cid,
        verify_url=url,
        issuer_name=issuer,
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _qr(url: str) -> bytes:
    return qr_png(url, scale=6)


def linkedin_url(held: creds.HeldCredential, share_url: str) -> str:
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": held.achievement_name,
        "organizationName": settings.issuer_name,
        "issueYear": held.issued_at.year,
        "issueMonth": held.issued_at.month,
        "expirationYear": held.valid_until.year,
        "expirationMonth": held.valid_until.month,
        "certUrl": share_url,
        "certId": held.id,
    }
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def level_title(level_id: str) -> str:
    try:
        return ctx.base_catalog.level(level_id).title
    except Exception:  # content being edited: the id alone still reads fine
        return level_id


st.title("My credentials")

with ctx.session() as session:
    public = accounts.shows_name_publicly(session, actor.id)
    held_list = creds.my_credentials(session, actor)

choice = st.toggle(
    "Show my name on my public credential pages",
    value=public,
    help="Employers who check your credential see your name only while this is on. "
    "Credentials issued while it was off never carry your name.",
)
if choice != public:
    with user_errors(), ctx.session() as session:
        accounts.set_name_public(session, actor, choice)
        st.toast("Saved.")

if not held_list:
    st.info("Pass a level exam to earn your first credential.", icon=":material/workspace_premium:")
    st.stop()

for held in held_list:
    share_url = creds.verify_url(settings, held.id)
    slug = held.id.removeprefix("urn:uuid:")
    with st.container(border=True):
        st.subheader(held.achievement_name)
        st.markdown(
            f"{STATUS_BADGE[held.status]} · Issued {held.issued_at:%d %B %Y} · "
            f"Valid until {held.valid_until:%d %B %Y} · Agreement {held.agreement:.2f}"
        )
        if held.status == "revoked":
            st.error(f"Revoked: {held.revocation_reason or 'no reason given'}")
        elif held.status == "expired":
            st.warning("Expired: pass a recertification calibration batch to renew it.")
        left, right = st.columns([3, 1])
        with left:
            st.text_input("Share link", share_url, disabled=True, key=f"link-{held.id}")
            st.caption(f"Credential ID: `{held.id}`")
            if held.status == "active":
                st.link_button(
                    "Add to LinkedIn profile",
                    linkedin_url(held, share_url),
                    icon=":material/add_box:",
                )
            b1, b2, b3 = st.columns(3)
            b1.download_button(
                "PDF certificate",
                _pdf(
                    actor.display_name,
                    level_title(held.level_id),
                    held.achievement_name,
                    held.issued_at,
                    held.valid_until,
                    held.id,
                    share_url,
                    settings.issuer_name,
                ),
                f"certificate-{slug}.pdf",
                "application/pdf",
                key=f"pdf-{held.id}",
                icon=":material/picture_as_pdf:",
            )
            b2.download_button(
                "Signed JWT",
                held.jwt,
                f"credential-{slug}.jwt",
                "application/jwt",
                key=f"jwt-{held.id}",
                icon=":material/key:",
            )
            b3.download_button(
                "Credential JSON",
                json.dumps(held.document, indent=2),
                f"credential-{slug}.json",
                "application/json",
                key=f"json-{held.id}",
                icon=":material/data_object:",
            )
        with right:
            st.image(_qr(share_url), caption="Scan to verify", width=160)
