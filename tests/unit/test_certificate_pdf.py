"""The printable certificate: readable text, and a QR code that scans to the verify URL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
import segno

from evaluator_cert.credentials import certificate_pdf, qr_png

pdfium = pytest.importorskip("pypdfium2")
zxingcpp = pytest.importorskip("zxingcpp")

VERIFY_URL = "https://cert.example.org/verify/7f3c2a9e-51d4-4c0b-9a57-0e2d6b1f8c44"
CREDENTIAL_ID = "urn:uuid:7f3c2a9e-51d4-4c0b-9a57-0e2d6b1f8c44"


def make_pdf(holder_name: str = "Ada Example", **overrides: object) -> bytes:
    arguments: dict[str, object] = {
        "holder_name": holder_name,
        "level_title": "L2 Advanced",
        "achievement_name": "Certified AI Evaluator: Advanced",
        "issued": datetime(2026, 4, 9, 15, 0, tzinfo=UTC),
        "valid_until": date(2027, 4, 9),
        "credential_id": CREDENTIAL_ID,
        "verify_url": VERIFY_URL,
        "issuer_name": "Evaluator Certification Board",
    }
    arguments.update(overrides)
    return certificate_pdf(**arguments)  # type: ignore[arg-type]


def page_text_and_image(data: bytes) -> tuple[str, object, tuple[float, float]]:
    document = pdfium.PdfDocument(data)
    assert len(document) == 1
    page = document[0]
    text = page.get_textpage().get_text_range()
    image = page.render(scale=2).to_pil()
    return text, image, page.get_size()


def test_certificate_text_and_layout() -> None:
    data = make_pdf()
    assert data.startswith(b"%PDF-")
    text, _, (width, height) = page_text_and_image(data)
    assert width > height  # landscape
    assert (round(width), round(height)) == (842, 595)  # A4 in points
    for expected in (
        "Ada Example",
        "L2 Advanced",
        "Certified AI Evaluator: Advanced",
        CREDENTIAL_ID,
        VERIFY_URL,
        "9 April 2026",
        "9 April 2027",
        "Evaluator Certification Board".upper(),
    ):
        assert expected in text


def test_qr_code_on_the_page_decodes_to_the_verify_url() -> None:
    _, image, _ = page_text_and_image(make_pdf())
    found = zxingcpp.read_barcodes(image)
    assert [(r.format, r.text) for r in found] == [(zxingcpp.BarcodeFormat.QRCode, VERIFY_URL)]


def test_qr_png_round_trip() -> None:
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(VERIFY_URL))))
    assert [r.text for r in found] == [VERIFY_URL]
    # and the matrix segno drew is the one for this URL, not a cached or default code
    assert segno.make_qr(VERIFY_URL, error="m").matrix != segno.make_qr("x", error="m").matrix


def test_without_dejavu_the_core_font_degrades_instead_of_failing() -> None:
    data = make_pdf("Zoë 李", font_dirs=[])
    text, image, _ = page_text_and_image(data)
    assert "Zoë ?" in text  # Latin-1 survives, the rest becomes '?'
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [VERIFY_URL]


def test_long_names_stay_on_the_page() -> None:
    name = "Maximiliana Theodora Wilhelmina von Aschenbach-Lindqvist de la Fontaine-Okonkwo"
    data = make_pdf(name, valid_until=None)
    text, image, (width, _) = page_text_and_image(data)
    assert name in text
    textpage = pdfium.PdfDocument(data)[0].get_textpage()
    boxes = [textpage.get_charbox(i) for i in range(textpage.count_chars())]
    assert all(left >= 0 and right <= width for left, _, right, _ in boxes)
    assert "Valid until" not in text
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [VERIFY_URL]
