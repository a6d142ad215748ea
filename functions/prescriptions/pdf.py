"""The prescription as a PDF (ReportLab platypus), imported only by the PDF route's code path.

Fonts: Noto Sans (Latin, Cyrillic, Greek) and Noto Sans Devanagari, TrueType files from
Debian's `fonts-noto-core`, found in the `PDF_FONT_DIR` setting. Text is split into script
runs and each run set in the font that has its glyphs, so a Polish, Russian or Hindi name
prints as written instead of as empty boxes.

Devanagari needs shaping (conjuncts, and vowel signs such as ि drawn before the consonant
they follow in memory). ReportLab 5 shapes text with HarfBuzz when `uharfbuzz` is installed;
we turn it on only for paragraphs that contain Devanagari: shaping Latin text would also form
ligatures (fi, fl), and ReportLab writes no text mapping for ligature glyphs, so copying or
searching "Ciprofloxacin" would fail. Shaped Devanagari has the same problem, so such a
paragraph also carries an invisible copy of its text (text render mode 3, as OCR layers
do): the page shows correctly shaped glyphs and search, copy and screen readers get the
exact Unicode. Without `uharfbuzz`, Devanagari is printed unshaped (legible letters, wrong
conjuncts and vowel-sign order); see the README.
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab import rl_config
from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from functions.core.config import get_settings
from functions.core.errors import Code, ServiceUnavailable
from functions.core.observability import logger
from functions.prescriptions import numbers, views
from functions.prescriptions.status import ACTIVE, as_utc, effective_status

LATIN, DEVANAGARI = "NotoSans", "NotoSansDevanagari"
FONT_FILES = {
    LATIN: "NotoSans-Regular.ttf",
    f"{LATIN}-Bold": "NotoSans-Bold.ttf",
    DEVANAGARI: "NotoSansDevanagari-Regular.ttf",
    f"{DEVANAGARI}-Bold": "NotoSansDevanagari-Bold.ttf",
}
# Devanagari, Vedic extensions, Devanagari Extended; the danda and ZWJ/ZWNJ stay with their run.
_DEVANAGARI_RUN = re.compile(r"([\u0900-\u097F\u1CD0-\u1CFF\uA8E0-\uA8FF\u200C\u200D]+)")
_HAS_DEVANAGARI = re.compile(r"[\u0900-\u097F\u1CD0-\u1CFF\uA8E0-\uA8FF]")
# Binary (Flate only) streams instead of Flate + ASCII85: a fifth faster and smaller; the PDF
# travels as bytes anyway. ReportLab is used by this module only, so the global is ours.
rl_config.useA85 = 0
INK, MUTED, RULE = colors.HexColor("#1a1a1a"), colors.HexColor("#555555"), colors.HexColor("#b0b0b0")


class FontsMissing(ServiceUnavailable):
    code = Code.PDF_FONTS_MISSING


# ---------------------------------------------------------------- fonts


def _shaping_available() -> bool:
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        return False
    return True


SHAPING = _shaping_available()


def font_paths(font_dir: str) -> dict[str, str]:
    """The TTF file of each face, or FontsMissing naming the folder, the missing files and the fix."""
    paths = {name: os.path.join(font_dir, file) for name, file in FONT_FILES.items()}
    missing = sorted(os.path.basename(p) for p in paths.values() if not os.path.isfile(p))
    if missing:
        message = (f"Prescription PDF fonts not found in PDF_FONT_DIR={font_dir!r}: missing {', '.join(missing)}. "
                   "Install Debian's fonts-noto-core or point PDF_FONT_DIR at a folder with these files.")
        logger.error(message)
        raise FontsMissing("Prescription PDFs are unavailable: fonts are not installed")
    return paths


def register_fonts(font_dir: str | None = None) -> None:
    """Register the faces once per container and folder (about 10 ms of TTF parsing)."""
    _register_fonts(font_dir or get_settings().pdf_font_dir)


@functools.cache  # a folder whose fonts are missing raises, and is not remembered
def _register_fonts(font_dir: str) -> None:
    from reportlab.lib.fonts import addMapping

    for name, path in font_paths(font_dir).items():
        pdfmetrics.registerFont(TTFont(name, path))
    for family in (LATIN, DEVANAGARI):  # so <b> inside a run picks the bold face of its script
        addMapping(family, 0, 0, family)
        addMapping(family, 1, 0, f"{family}-Bold")
        addMapping(family, 0, 1, family)
        addMapping(family, 1, 1, f"{family}-Bold")


# ---------------------------------------------------------------- text in several scripts


def markup(text: str | None) -> str:
    """Escape `text` for a Paragraph and set each Devanagari run in the Devanagari face."""
    out = []
    for i, part in enumerate(_DEVANAGARI_RUN.split(text or "")):
        if not part:
            continue
        piece = escape(part).replace("\n", "<br/>")
        out.append(f'<font name="{DEVANAGARI}">{piece}</font>' if i % 2 else piece)
    return "".join(out)


class SearchableParagraph(Paragraph):  # type: ignore[misc]  # ReportLab ships no types
    """A paragraph whose shaped glyphs may not map back to text: an invisible copy of the plain
    text is drawn first, squeezed into the paragraph's width, for search, copy and extraction."""

    def __init__(self, plain: str, text: str, style: ParagraphStyle) -> None:
        super().__init__(text, style)
        self.plain = plain

    def draw(self) -> None:
        canvas, size = self.canv, self.style.fontSize
        runs = [(DEVANAGARI if i % 2 else LATIN, part)
                for i, part in enumerate(_DEVANAGARI_RUN.split(" ".join(self.plain.split()))) if part]
        width = sum(pdfmetrics.stringWidth(part, font, size) for font, part in runs) or 1.0
        canvas.saveState()  # the render mode is graphics state: keep it off the visible glyphs
        text = canvas.beginText(0, max(self.height - size, 0))
        text.setTextRenderMode(3)  # neither fill nor stroke: present for extraction only
        text.setHorizScale(min(100.0, 100.0 * self.width / width))
        for font, part in runs:
            text.setFont(font, size)
            text.textOut(part)
        canvas.drawText(text)
        canvas.restoreState()
        super().draw()


def para(text: str | None, style: ParagraphStyle, *, bold: bool = False) -> Paragraph:
    body = markup(text)
    if bold:
        body = f"<b>{body}</b>"
    if SHAPING and _HAS_DEVANAGARI.search(text or ""):
        return SearchableParagraph(text or "", body, _shaped(style))
    return Paragraph(body, style)


_shaped_styles: dict[str, ParagraphStyle] = {}


def _shaped(style: ParagraphStyle) -> ParagraphStyle:
    if style.name not in _shaped_styles:
        _shaped_styles[style.name] = ParagraphStyle(f"{style.name}-shaped", parent=style, shaping=1)
    return _shaped_styles[style.name]


# ---------------------------------------------------------------- styles

BASE = ParagraphStyle("base", fontName=LATIN, fontSize=9.5, leading=12.5, textColor=INK)
SMALL = ParagraphStyle("small", parent=BASE, fontSize=8, leading=10, textColor=MUTED)
LABEL = ParagraphStyle("label", parent=BASE, fontSize=8, leading=10, textColor=MUTED)
HEADING = ParagraphStyle("heading", parent=BASE, fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=2)
CLINIC = ParagraphStyle("clinic", parent=BASE, fontSize=15, leading=19)
TITLE = ParagraphStyle("title", parent=BASE, fontSize=14, leading=18, alignment=TA_RIGHT)
RIGHT = ParagraphStyle("right", parent=BASE, alignment=TA_RIGHT)
CELL = ParagraphStyle("cell", parent=BASE, fontSize=8.5, leading=11)
ALERT = ParagraphStyle("alert", parent=BASE, fontSize=11, leading=14, textColor=colors.HexColor("#b00020"))


# ---------------------------------------------------------------- values


def _birth_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def age_text(date_of_birth: Any, today: date) -> str:
    born = _birth_date(date_of_birth)
    if born is None or born > today:
        return ""
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return f"{years} years (born {born.day} {born:%b %Y})"


def verification_url(code: str) -> str:
    """The API's own verification page (`Settings.api_url`): a browser gets a page, other
    clients JSON. PDFs issued before this link carried `APP_BASE_URL/prescription/verify/...`,
    a page the existing frontend does not have (see the README's changelog)."""
    return get_settings().api_url(f"prescription/verify/{numbers.format_code(code)}")


def qr_code(url: str, size: float = 30 * mm) -> QrCode:
    """The QR flowable (encodes once and draws runs of modules straight on the canvas; the
    Drawing widget encodes twice and builds a shape per run, three times slower)."""
    return QrCode(url, width=size, height=size, qrLevel="M", qrBorder=2)


# ---------------------------------------------------------------- page furniture


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # ReportLab ships no types
    """Defers each page so the footer can say "page N of M"."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._footer = footer

    def showPage(self) -> None:  # ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(LATIN, 7.5)
            self.setFillColor(MUTED)
            self.drawString(18 * mm, 10 * mm, self._footer)
            self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


# ---------------------------------------------------------------- the document


def _two_columns(left: list[Any], right: list[Any], widths: tuple[float, float]) -> Table:
    table = Table([[left, right]], colWidths=list(widths))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _medications_table(meds: list[Mapping[str, Any]], width: float) -> Table:
    header = [para(h, CELL, bold=True) for h in ("#", "Medicine", "Dose and frequency", "Duration", "Qty",
                                                "Refills", "Instructions")]
    rows: list[list[Any]] = [header]
    for i, med in enumerate(meds, start=1):
        medicine = [para(" ".join(filter(None, [med.get("name"), med.get("strength")])), CELL, bold=True)]
        if med.get("genericName"):
            medicine.append(para(f"({med['genericName']})", CELL))
        dose = [para(med.get("dosage"), CELL), para(med.get("frequency"), CELL)]
        if med.get("route"):
            dose.append(para(f"Route: {med['route']}", CELL))
        rows.append([para(str(i), CELL), medicine, dose, para(med.get("duration") or "", CELL),
                     para(str(med.get("quantity") or ""), CELL), para(str(med.get("refills") or 0), CELL),
                     para(med.get("instructions") or "", CELL)])
    fractions = (0.04, 0.24, 0.22, 0.12, 0.07, 0.07, 0.24)
    table = Table(rows, colWidths=[width * f for f in fractions], repeatRows=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _section(title: str, text: str | None) -> list[Any]:
    if not text:
        return []
    return [para(title, HEADING, bold=True), para(text, BASE)]


def render(rx: Mapping[str, Any], doctor: Mapping[str, Any] | None, patient: Mapping[str, Any] | None,
           now: datetime) -> bytes:
    """The prescription as PDF bytes (A4)."""
    settings = get_settings()
    register_fonts()
    tz = settings.default_timezone
    issued, valid_until = views.local_date(rx.get("issuedAt"), tz), views.local_date(rx.get("validUntil"), tz)
    doctor, patient = doctor or {}, patient or {}
    prescriber = views.doctor_title(doctor.get("name"))
    code = str(rx["verificationCode"])
    url = verification_url(code)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=f"Prescription {rx['prescriptionNumber']}",
                            author=settings.clinic_name, creator="CureConnect")
    width = doc.width - 12  # the frame's default 6 pt padding on each side
    status = effective_status(rx, now)

    clinic = [para(settings.clinic_name, CLINIC, bold=True)]
    if settings.clinic_address:
        clinic.append(para(settings.clinic_address, SMALL))
    title = [para("PRESCRIPTION", TITLE, bold=True), para(f"No. {rx['prescriptionNumber']}", RIGHT),
             para(f"Issued {issued} · valid until {valid_until}", RIGHT)]
    story: list[Any] = [_two_columns(clinic, title, (width * 0.55, width * 0.45)), Spacer(1, 4 * mm)]
    if status != ACTIVE:
        story.append(para(f"This prescription is {status.upper()} and must not be dispensed.", ALERT, bold=True))

    doctor_block = [para("Prescriber", LABEL), para(prescriber, BASE, bold=True),
                    para(doctor.get("speciality") or "General Medicine", BASE)]
    if doctor.get("registrationNumber"):
        doctor_block.append(para(f"Registration No. {doctor['registrationNumber']}", BASE))
    patient_block = [para("Patient", LABEL), para(patient.get("name") or "", BASE, bold=True)]
    age = age_text(patient.get("dateOfBirth"), as_utc(now).astimezone(ZoneInfo(tz)).date())
    if age:
        patient_block.append(para(f"Age {age}", BASE))
    story += [_two_columns(doctor_block, patient_block, (width * 0.5, width * 0.5))]

    story += _section("Diagnosis", rx.get("diagnosis")) + _section("Symptoms", rx.get("symptoms"))
    story += [para("Medications", HEADING, bold=True), _medications_table(list(rx.get("medications") or []), width)]
    story += _section("Notes", rx.get("notes")) + _section("Follow-up", rx.get("followUpInstructions"))

    signature = [Spacer(1, 10 * mm), para("_" * 34, BASE), para(prescriber, BASE, bold=True),
                 para(f"Issued electronically on {issued} through {settings.clinic_name}", SMALL)]
    verification = [para("Verify this prescription", LABEL), para(numbers.format_code(code), BASE, bold=True),
                    para("Scan the code, or open the link below", SMALL)]
    stamp = Table([[verification, qr_code(url)]], colWidths=[width * 0.5 - 32 * mm, 32 * mm])
    stamp.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    # The link on a line of its own, the page's full width: the API's URL does not fit beside the code.
    link = para(f"Verify at {url}", SMALL)
    story += [Spacer(1, 6 * mm), KeepTogether([_two_columns(signature, [stamp], (width * 0.5, width * 0.5)), link])]

    footer = f"{rx['prescriptionNumber']} · verification code {numbers.format_code(code)}"
    if status != ACTIVE:  # on every page, not only under the title
        footer += f" · {status.upper()}: do not dispense"
    doc.build(story, canvasmaker=lambda *a, **kw: _NumberedCanvas(*a, footer=footer, **kw))
    return buffer.getvalue()
