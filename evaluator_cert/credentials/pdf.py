"""Printable certificate: landscape A4 with the holder, level, dates, id and a QR code.

The QR code encodes the public verify URL, and the credential id is printed in text,
so a paper copy can be checked by scanning or by typing the id.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import segno
from fpdf import FPDF

# DejaVu covers most scripts; without it the built-in Helvetica (Latin-1 only) is used.
_FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
)
_INK = (33, 37, 41)
_ACCENT = (31, 78, 121)
_MUTED = (108, 117, 125)


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """PNG of a QR code for ``url`` (error correction M, quiet zone included)."""
    qr = segno.make_qr(url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _find_unicode_font(folders: Sequence[Path]) -> tuple[Path, Path] | None:
    for folder in folders:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def _format_date(value: date | datetime) -> str:
    return f"{value.day} {value:%B %Y}"


class _Certificate(FPDF):
    def __init__(self, font_files: tuple[Path, Path] | None) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        if font_files is not None:
            self.add_font("Body", "", str(font_files[0]))
            self.add_font("Body", "B", str(font_files[1]))
            self.body_font = "Body"
            self.unicode_ok = True
        else:
            self.body_font = "Helvetica"
            self.unicode_ok = False

    def text_safe(self, text: str) -> str:
        # core fonts cannot draw characters outside Latin-1; degrade instead of failing
        return text if self.unicode_ok else text.encode("latin-1", "replace").decode("latin-1")

    def line_of(self, text: str, *, y: float, size: float, style: str = "", color=_INK) -> None:
        text = self.text_safe(text)
        self.set_font(self.body_font, style, size)
        while size > 8 and self.get_string_width(text) > self.w - 40:
            size -= 1  # long names shrink to fit instead of running off the page
            self.set_font(self.body_font, style, size)
        self.set_text_color(*color)
        self.set_xy(20, y)
        self.cell(self.w - 40, size * 0.5, text, align="C")


def certificate_pdf(
    *,
    holder_name: str,
    level_title: str,
    achievement_name: str,
    issued: date | datetime,
    valid_until: date | datetime | None,
    credential_id: str,
    verify_url: str,
    issuer_name: str,
    font_dirs: Sequence[Path] | None = None,
) -> bytes:
    """The certificate as PDF bytes.

    ``font_dirs`` are searched for DejaVu Sans (default: the usual system folders); with
    none found, Helvetica is used and characters outside Latin-1 print as ``?``.
    """
    pdf = _Certificate(_find_unicode_font(_FONT_CANDIDATES if font_dirs is None else font_dirs))
    pdf.set_title(pdf.text_safe(f"{achievement_name} - {holder_name}"))
    pdf.set_author(pdf.text_safe(issuer_name))
    pdf.set_subject(pdf.text_safe(f"Credential {credential_id}"))
    pdf.add_page()
    width, height = pdf.w, pdf.h

    # double frame
    pdf.set_draw_color(*_ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, height - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, width - 28, height - 28)

    pdf.line_of(issuer_name.upper(), y=26, size=12, style="B", color=_MUTED)
    pdf.line_of("Certificate of Achievement", y=40, size=30, style="B", color=_ACCENT)
    pdf.line_of("This certifies that", y=62, size=13, color=_MUTED)
    pdf.line_of(holder_name, y=74, size=28, style="B")
    pdf.line_of("has earned the credential", y=94, size=13, color=_MUTED)
    pdf.line_of(achievement_name, y=105, size=20, style="B", color=_ACCENT)
    pdf.line_of(f"Level: {level_title}", y=120, size=13)

    dates = f"Issued {_format_date(issued)}"
    if valid_until is not None:
        dates += f"  \u00b7  Valid until {_format_date(valid_until)}"
    pdf.line_of(dates if pdf.unicode_ok else dates.replace("\u00b7", "-"), y=132, size=12)

    # QR code bottom right, verification text bottom left
    qr_size = 42.0
    qr_x, qr_y = width - 24 - qr_size, height - 24 - qr_size
    pdf.image(io.BytesIO(qr_png(verify_url)), x=qr_x, y=qr_y, w=qr_size, h=qr_size)

    pdf.set_text_color(*_INK)
    pdf.set_font(pdf.body_font, "B", 10)
    pdf.set_xy(24, height - 60)
    pdf.cell(0, 6, "Credential ID")
    pdf.set_font(pdf.body_font, "", 10)
    pdf.set_xy(24, height - 54)
    pdf.cell(qr_x - 30, 6, pdf.text_safe(credential_id))
    pdf.set_font(pdf.body_font, "B", 10)
    pdf.set_xy(24, height - 44)
    pdf.cell(0, 6, "Verify at")
    pdf.set_font(pdf.body_font, "", 9)
    pdf.set_text_color(*_ACCENT)
    pdf.set_xy(24, height - 38)
    pdf.cell(qr_x - 30, 6, pdf.text_safe(verify_url), link=verify_url)
    pdf.set_text_color(*_MUTED)
    pdf.set_font(pdf.body_font, "", 8)
    pdf.set_xy(24, height - 30)
    pdf.cell(
        qr_x - 30, 5, "Scan the code or open the link to check that this credential is genuine."
    )
    return bytes(pdf.output())
