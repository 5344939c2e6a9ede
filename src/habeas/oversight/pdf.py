"""A person's file as a PDF: the official copy a prisoner receives on release and may ask for
at any time (Mandela Rule 9: "the prisoner may see their own file and receives an official
copy on release"). It holds exactly what the requesting user may see of the file
(``custody.api.person_file_for``: no cell for a sending state's staff) and the ledger tree
head it was read at, so the copy can later be checked against the ledger (Rule 6).

fpdf2 with DejaVu Sans when the font is installed (accents and other scripts); otherwise
fpdf2's core Helvetica with characters outside Latin-1 replaced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from habeas.core.clock import now
from habeas.core.pdf import HabeasPDF
from habeas.ledger.services import ledger_root, ledger_size


class _FilePDF(HabeasPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(footer_text, margins=(18, 16, 18))

    def footer(self) -> None:
        self.set_y(-13)
        self.font(7.5)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        self.ln(3)
        self.font(12, bold=True)
        self.cell(0, 8, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(11, 12, 12)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)

    def pairs(self, rows: Sequence[tuple[str, Any]]) -> None:
        for label, value in rows:
            self.font(9, bold=True)
            self.cell(52, 6, self.text_of(label))
            self.font(9.5)
            self.multi_cell(0, 6, self.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, headings: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            self.font(9.5)
            self.cell(0, 6, self.text_of(_("None recorded.")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        self.font(8.5)
        with self.table(
            headings_style=FontFace(emphasis="BOLD", fill_color=(243, 242, 241)),
            line_height=5.5,
            text_align="LEFT",
            padding=1,
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            head = table.row()
            for h in headings:
                head.cell(self.text_of(h))
            for values in rows:
                row = table.row()
                for v in values:
                    row.cell(self.text_of(v))


def _date(value: Any) -> str:
    if not value:
        return ""
    text = str(value)
    return text[:16].replace("T", " ") + (" UTC" if "T" in text else "")


def person_file_pdf(
    document: dict[str, Any], *, user: Any, full_name: str, at: dt.datetime | None = None
) -> bytes:
    """The PDF of ``document`` (the ``show --json`` file as ``user`` may see it)."""
    at = at or now()
    size = ledger_size()
    root = ledger_root(size).hex()
    footer = _("Habeas · registry number %(id)s · ledger size %(size)s, root %(root)s…") % {
        "id": document["id"],
        "size": size,
        "root": root[:16],
    }
    pdf = _FilePDF(footer)
    pdf.set_title(_("Custody file of %(name)s") % {"name": full_name})
    pdf.set_creator("Habeas")
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.font(9)
    pdf.set_text_color(72, 79, 84)
    pdf.cell(
        0,
        5,
        pdf.text_of(_("OFFICIAL COPY OF THE CUSTODY FILE (Mandela Rule 9)")),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_text_color(0, 0, 0)
    pdf.font(18, bold=True)
    pdf.multi_cell(0, 9, pdf.text_of(full_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(9.5)
    pdf.cell(
        0,
        6,
        pdf.text_of(_("Registry number %(id)s") % {"id": document["id"]}),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    names = document["names"]
    pdf.heading(_("Identity"))
    pdf.pairs(
        [
            (_("Given names"), names["given_names"]),
            (_("First surname"), names["first_surname"]),
            (_("Second surname"), names["second_surname"]),
            (_("Aliases"), "; ".join(names["aliases"])),
            (_("Date of birth"), document["date_of_birth"]),
            (_("Sex"), document["sex"]),
            (_("Nationalities"), ", ".join(document["nationalities"])),
            (_("Sending-state references"), ", ".join(document["sending_refs"])),
        ]
    )

    pdf.heading(_("Legal bases"))
    pdf.grid(
        [_("Kind"), _("Reference"), _("Authority"), _("Sentence"), _("Start"), _("Ends on")],
        [
            [
                b["kind"].replace("_", " "),
                b["ref"],
                b.get("authority"),
                b.get("sentence"),
                b.get("sentence_start"),
                b.get("ends_on"),
            ]
            for b in document["legal_bases"]
        ],
    )

    pdf.heading(_("Custody"))
    pdf.grid(
        [_("Facility"), _("Agreement"), _("Admitted"), _("Released"), _("Release reason")],
        [
            [
                c["facility"],
                c.get("agreement"),
                _date(c["admitted_at"]),
                _date(c.get("released_at")),
                (c.get("release_reason") or "").replace("_", " "),
            ]
            for c in document["custody"]
        ],
    )
    pdf.ln(2)
    rows: list[tuple[str, Any]] = []
    if document.get("cell"):
        rows.append((_("Current cell"), document["cell"]))
    rows.append((_("Computed release date"), document.get("release_date")))
    pdf.pairs(rows)

    pdf.heading(_("About this copy"))
    pdf.font(8.5)
    pdf.multi_cell(
        0,
        4.8,
        pdf.text_of(
            _(
                "Issued on %(at)s by %(user)s (%(role)s). It shows the file as recorded in "
                "the Habeas registry when the ledger held %(size)s entries with Merkle root "
                "%(root)s; anyone holding this root can ask Habeas for a proof that the "
                "ledger still contains, unchanged, every entry it covered."
            )
            % {
                "at": _date(at.astimezone(dt.UTC).isoformat()),
                "user": getattr(user, "username", ""),
                "role": getattr(user, "role", "") or "-",
                "size": size,
                "root": root,
            }
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())
