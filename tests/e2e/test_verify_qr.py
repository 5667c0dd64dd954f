"""From paper to verdict: the QR code printed on a certificate opens the public verify
page, which shows the credential as valid (and a revoked one as revoked)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from evaluator_cert.credentials import certificate_pdf
from evaluator_cert.db.models import User
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services import credentials as creds
from evaluator_cert.services.actors import Actor

FIXTURE_CONTENT = Path(__file__).parents[1] / "fixtures" / "content"

pytestmark = pytest.mark.browser


@pytest.fixture
def live_env() -> dict[str, str]:
    return {"EVALUATOR_CERT_CONTENT_DIR": str(FIXTURE_CONTENT)}


def _seed(ctx: AppContext) -> dict[str, str]:
    now = datetime.now(UTC)
    ids: dict[str, str] = {}
    with ctx.session() as session:
        for username, name in (("grace", "Grace Hopper"), ("mallory", "Mallory Moe")):
            user = accounts.create_user(
                session,
                ctx.settings,
                username=username,
                password="correct horse battery",
                display_name=name,
            )
            accounts.set_name_public(session, Actor.of(user), True)
            holder = session.get(User, user.id)
            assert holder is not None
            row = creds.issue_credential(
                session, holder, ctx.base_catalog, "L1", 0.83, now - timedelta(days=1)
            )
            session.commit()
            ids[username] = row.id
        creds.revoke_credential(session, None, ids["mallory"], "Exam taken with outside help.")
    return ids


@pytest.fixture
def live_seed() -> Callable[[AppContext], Any]:
    return _seed


def _qr_url_from_pdf(pdf: bytes) -> str:
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    codes = [c for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, "the certificate should carry exactly one QR code"
    return codes[0].text


def _certificate(server: Any, credential_id: str, holder: str) -> bytes:
    settings = server.settings
    return certificate_pdf(
        holder_name=holder,
        level_title="Foundation",
        achievement_name="Certified AI Evaluator, L1 Foundation",
        issued=datetime.now(UTC),
        valid_until=datetime.now(UTC) + timedelta(days=365),
        credential_id=credential_id,
        verify_url=creds.verify_url(settings, credential_id),
        issuer_name=settings.issuer_name,
    )


def test_qr_code_on_the_certificate_opens_a_valid_verdict(
    live_server: Any, page: Any, wait_for_app: Callable[..., None]
) -> None:
    credential_id = live_server.seeded["grace"]
    url = _qr_url_from_pdf(_certificate(live_server, credential_id, "Grace Hopper"))
    assert url == f"{live_server}/verify?id={credential_id}"

    page.goto(url)
    wait_for_app(page)
    verdict = page.locator("[data-testid='stAlertContentSuccess'] h3")
    verdict.wait_for()
    assert verdict.inner_text().strip() == "Valid"
    # The details list under the verdict may render a moment after the verdict itself.
    page.get_by_test_id("stMain").get_by_text(credential_id).first.wait_for()
    body = page.locator("[data-testid='stMain']").inner_text()
    assert credential_id in body
    assert "Grace Hopper" in body
    assert "Revoked" not in body


def test_revoked_credential_reads_revoked_in_the_browser(
    live_server: Any, page: Any, wait_for_app: Callable[..., None]
) -> None:
    credential_id = live_server.seeded["mallory"]
    url = _qr_url_from_pdf(_certificate(live_server, credential_id, "Mallory Moe"))
    page.goto(url)
    wait_for_app(page)
    verdict = page.locator("[data-testid='stAlertContentError'] h3")
    verdict.wait_for()
    assert verdict.inner_text().strip() == "Revoked"
    assert "Exam taken with outside help." in page.locator("[data-testid='stMain']").inner_text()
