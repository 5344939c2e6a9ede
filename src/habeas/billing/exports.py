"""An invoice or note as CSV and as PDF (INTERFACES.md, ``invoice --format``).

CSV: one row per line; a cell that a spreadsheet would read as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe (OWASP,
CSV injection). Amounts keep their sign in a column of their own type, so a credit note's
negative amounts are written as numbers a spreadsheet reads, with the apostrophe only on text.

PDF: what a finance office files: both parties, the agreement, the period, the number and
status, every line, the totals in figures and in words, the currency, the rounding rule, the
ledger root it was computed from and ``page n/N`` on every page. fpdf2 with DejaVu Sans when
the font is installed.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos
from num2words import num2words

from habeas.agreements.models import Agreement
from habeas.billing.schedule import minor_units
from habeas.core import csvsafe
from habeas.core.pdf import HabeasPDF

CSV_COLUMNS = (
    "number", "kind", "sending_ref", "person", "name", "first_day", "last_day", "days", "rate",
    "amount", "currency",
)  # fmt: skip
NUMERIC = frozenset({"days", "rate", "amount"})


def _cell(value: Any, *, numeric: bool) -> Any:
    """A numeric column's text as a ``Decimal`` (so a credit note's ``-109.58`` stays a number
    for :mod:`habeas.core.csvsafe`); any other value as it is, for csvsafe to neutralise."""
    if value is None:
        return ""
    if numeric:
        try:
            return Decimal(str(value))
        except ArithmeticError:
            pass
    return value


def invoice_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in document["lines"]:
        values = {
            **line,
            "number": document.get("number") or "draft",
            "currency": document["currency"],
        }
        writer.writerow(
            [_cell(values.get(c), numeric=c in NUMERIC and c in line) for c in CSV_COLUMNS]
        )
    return out.getvalue()


def amount_in_words(amount: str, currency: str, language: str | None = None) -> str:
    """``1234.50`` USD → ``one thousand, two hundred and thirty-four US dollars and fifty
    cents`` (num2words' currency forms; its cardinal with the ISO code otherwise)."""
    lang = (language or get_language() or "en")[:2]
    lang = lang if lang in {"en", "es"} else "en"
    value = Decimal(amount)
    try:
        words = str(num2words(abs(value), lang=lang, to="currency", currency=currency))
    except (NotImplementedError, KeyError, ValueError):
        whole = int(abs(value))
        cents = int((abs(value) - whole).scaleb(minor_units(currency)))
        words = f"{num2words(whole, lang=lang)} {currency}"
        if cents:
            words += f" {num2words(cents, lang=lang)}/{10 ** minor_units(currency)}"
    return ("minus " if lang == "en" else "menos ") + words if value < 0 else words


def _kind_title(kind: str) -> str:
    return {
        "invoice": _("Invoice"),
        "credit_note": _("Credit note"),
        "debit_note": _("Debit note"),
    }[kind]


class _InvoicePDF(HabeasPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(footer_text, margins=(15, 15, 15))

    def footer(self) -> None:
        self.set_y(-12)
        self.font(7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.cell(
            0, 5, _("Page %(n)s of %(total)s") % {"n": self.page_no(), "total": "{nb}"}, align="R"
        )
        self.set_text_color(0, 0, 0)


WIDTHS = (24, 52, 22, 22, 12, 22, 26)


def invoice_pdf(document: dict[str, Any], agreement: Agreement) -> bytes:
    """The document as a PDF (A4)."""
    number = document.get("number") or _("DRAFT — not issued")
    pdf = _InvoicePDF(
        _("%(number)s · ledger root %(root)s")
        % {"number": number, "root": document["ledger_root"][:32] + "…"}
    )
    pdf.alias_nb_pages("{nb}")
    pdf.add_page()
    pdf.font(16, bold=True)
    pdf.cell(
        0,
        9,
        pdf.text_of(f"{_kind_title(document['kind'])} {number}"),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.font(9)
    receiving, sending = agreement.receiving, agreement.sending
    rows = [
        (_("From (receiving state)"), f"{receiving.name} ({receiving.code})"),
        (_("To (sending state)"), f"{sending.name} ({sending.code})"),
        (_("Agreement"), agreement.code),
        (_("Period"), document["period"]),
        (_("Status"), document["status"]),
        (_("Issued at"), document.get("issued_at") or "—"),
        (_("Refers to"), document.get("refers_to") or "—"),
        (_("Currency"), document["currency"]),
        (_("Day count"), document["day_count"]),
        (_("Rounding"), document["rounding"]),
        (_("Ledger root"), document["ledger_root"]),
        (_("Ledger size"), document["ledger_size"]),
    ]
    for label, value in rows:
        pdf.font(8.5, bold=True)
        pdf.cell(45, 5, pdf.text_of(label))
        pdf.font(8.5)
        pdf.multi_cell(0, 5, pdf.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    headings = (
        _("Reference"), _("Name"), _("First day"), _("Last day"), _("Days"), _("Rate"),
        _("Amount"),
    )  # fmt: skip

    def header() -> None:
        pdf.font(8, bold=True)
        pdf.set_fill_color(230, 230, 230)
        for width, text in zip(WIDTHS, headings, strict=True):
            pdf.cell(width, 6, pdf.text_of(text), border=1, fill=True, align="L")
        pdf.ln()

    header()
    pdf.font(7.5)
    for line in document["lines"]:
        if pdf.get_y() > pdf.h - 30:
            pdf.add_page()
            header()
            pdf.font(7.5)
        name = line["name"] if line["kind"] == "person_days" else _line_label(line)
        cells = (
            line["sending_ref"], name[:34], line["first_day"], line["last_day"], line["days"],
            line["rate"], line["amount"],
        )  # fmt: skip
        for i, (width, text) in enumerate(zip(WIDTHS, cells, strict=True)):
            pdf.cell(width, 5, pdf.text_of(text), border=1, align="R" if i >= 4 else "L")
        pdf.ln()
    pdf.ln(3)
    pdf.font(10, bold=True)
    pdf.cell(
        0, 6,
        pdf.text_of(_("Person-days: %(days)s") % {"days": document["total_days"]}),
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    total = {"total": document["total"], "currency": document["currency"]}
    words = {"words": amount_in_words(document["total"], document["currency"])}
    pdf.cell(
        0, 6, pdf.text_of(_("Total: %(total)s %(currency)s") % total),
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.font(9)
    pdf.multi_cell(
        0, 5, pdf.text_of(_("In words: %(words)s") % words), new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(2)
    pdf.font(7.5)
    pdf.multi_cell(
        0, 4,
        pdf.text_of(_(
            "Computed from the custody intervals recorded on the Habeas ledger up to the root "
            "above; anyone holding a copy of the ledger can recompute this document. Issued "
            "documents are never changed: corrections are credit or debit notes."
        )),
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    return bytes(pdf.output())


def _line_label(line: dict[str, Any]) -> str:
    if line["kind"] == "monthly_fee":
        return str(_("Fixed monthly fee"))
    if line["kind"] == "tier":
        return str(_("Above %(n)s people held") % {"n": line.get("tier_above")})
    return str(line.get("name") or "")
