"""The inspection report as a PDF (Mandela Rule 85(1): a written report; 85(2): the
administration's response to each recommendation; OPCAT art. 23), on the one PDF base
(:mod:`habeas.core.pdf`).

Two versions. The body's (for the body, oversight and the facility): findings and
recommendations with their owners, deadlines, the facility's responses and follow-up, and
how many private interviews were held. The public one: the same findings, recommendations and
responses without owners, officers' names or inspectors' accounts. Neither ever names who was
interviewed (OPCAT art. 21(1)); the count is all either says of the interviews.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos

from habeas.core.pdf import HabeasPDF
from habeas.inspections.models import Finding, Inspection


class _ReportPDF(HabeasPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(footer_text, margins=(18, 15, 18))

    def footer(self) -> None:
        self.set_y(-12)
        self.font(7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.cell(
            0, 5, _("Page %(n)s of %(total)s") % {"n": self.page_no(), "total": "{nb}"}, align="R"
        )
        self.set_text_color(0, 0, 0)

    def pair(self, label: str, value: Any) -> None:
        self.font(9, bold=True)
        self.cell(50, 5.5, self.text_of(label))
        self.font(9)
        self.multi_cell(0, 5.5, self.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(self, text: str, size: float = 9.5, bold: bool = False) -> None:
        self.font(size, bold=bold)
        self.multi_cell(0, 5.5, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


#: One line of a report: its style (``title``, ``subtitle``, ``heading``, ``text``,
#: ``pair``), a label (pairs only) and its text.
Line = tuple[str, str, str]


def report_lines(inspection: Inspection, *, public: bool) -> list[Line]:
    """What the report says, line by line; ``public`` leaves out every name (owners,
    officers, inspectors' accounts, follow-up notes). Neither version names an interviewee:
    the number of interviews is all either says of them."""
    title = _("Inspection report %(ref)s") % {"ref": inspection.reference}
    version = _("Public version") if public else _("Version of the inspection body")
    body, facility = inspection.body, inspection.facility
    lines: list[Line] = [
        ("title", "", title),
        ("subtitle", "", version),
        ("pair", _("Inspection body"), f"{body.name} ({body.get_kind_display()})"),
        ("pair", _("Facility"), f"{facility.name} ({facility.code})"),
        ("pair", _("Visit"), _("announced") if inspection.announced else _("unannounced")),
        ("pair", _("Arrived at the gate"), _stamp(inspection.arrived_at)),
    ]
    if inspection.admitted_at is not None:
        lines.append(("pair", _("Admitted at (UTC)"), _stamp(inspection.admitted_at)))
    lines.append(("pair", _("Gate"), str(inspection.get_gate_status_display())))
    if inspection.gate_reason:
        lines.append(
            ("pair", _("Reason given at the gate"), str(inspection.get_gate_reason_display()))
        )
    if inspection.ended_at is not None:
        lines.append(("pair", _("Visit ended"), _stamp(inspection.ended_at)))
    if not public:
        lines.append(("pair", _("Inspectors"), ", ".join(inspection.inspectors)))
    # the number only: never who (OPCAT art. 21(1))
    lines.append(("pair", _("Private interviews held"), str(inspection.interviews.count())))
    findings = list(inspection.findings.order_by("number"))
    for kind, heading in (
        ("finding", _("Findings")),
        ("recommendation", _("Recommendations and the facility's responses")),
    ):
        lines.append(("heading", "", heading))
        rows = [f for f in findings if f.kind == kind]
        if not rows:
            lines.append(("text", "", _("None.")))
        for f in rows:
            lines.extend(_finding(f, public=public))
    return lines


def _stamp(at: Any) -> str:
    return str(at.strftime("%Y-%m-%d %H:%M UTC"))


def _finding(f: Finding, *, public: bool) -> list[Line]:
    head = f"{f.number}. " + (f"[{f.citation}] " if f.citation else "")
    lines: list[Line] = [("text", "", head + f.text)]
    if not public:
        lines.append(("pair", _("Owner"), f.owner))
    lines.append(("pair", _("Deadline"), f.deadline.isoformat()))
    lines.append(("pair", _("Status"), str(f.get_status_display())))
    if f.response:
        lines.append(
            ("pair", _("Facility's response"), f"{f.get_response_display()}: {f.response_text}")
        )
    if f.closed_at is not None and not public:
        lines.append(("pair", _("Follow-up"), f.closure_note))
    return lines


def report_pdf(inspection: Inspection, *, public: bool) -> bytes:
    """:func:`report_lines` as a PDF on the one PDF base."""
    lines = report_lines(inspection, public=public)
    pdf = _ReportPDF(f"{lines[0][2]} · {lines[1][2]}")
    pdf.alias_nb_pages("{nb}")
    pdf.add_page()
    for shape, label, text in lines:
        if shape == "title":
            pdf.para(text, size=16, bold=True)
        elif shape == "subtitle":
            pdf.para(text, size=10)
            pdf.ln(2)
        elif shape == "heading":
            pdf.ln(4)
            pdf.para(text, size=12, bold=True)
        elif shape == "pair":
            pdf.pair(label, text)
        else:
            pdf.ln(1.5)
            pdf.para(text)
    return bytes(pdf.output())
