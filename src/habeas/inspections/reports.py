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


def report_pdf(inspection: Inspection, *, public: bool) -> bytes:
    """The report of ``inspection``; ``public`` leaves out every name (owners, officers,
    inspectors' accounts)."""
    title = _("Inspection report %(ref)s") % {"ref": inspection.reference}
    version = _("Public version") if public else _("Version of the inspection body")
    pdf = _ReportPDF(f"{title} · {version}")
    pdf.alias_nb_pages("{nb}")
    pdf.add_page()
    pdf.para(title, size=16, bold=True)
    pdf.para(version, size=10)
    pdf.ln(2)
    pdf.pair(_("Inspection body"), f"{inspection.body.name} ({inspection.body.get_kind_display()})")
    pdf.pair(_("Facility"), f"{inspection.facility.name} ({inspection.facility.code})")
    pdf.pair(_("Visit"), _("announced") if inspection.announced else _("unannounced"))
    pdf.pair(_("Arrived at the gate"), inspection.arrived_at.strftime("%Y-%m-%d %H:%M UTC"))
    if inspection.admitted_at is not None:
        pdf.pair(_("Admitted"), inspection.admitted_at.strftime("%Y-%m-%d %H:%M UTC"))
    pdf.pair(_("Gate"), inspection.get_gate_status_display())
    if inspection.gate_reason:
        pdf.pair(_("Reason given at the gate"), inspection.get_gate_reason_display())
    if inspection.ended_at is not None:
        pdf.pair(_("Visit ended"), inspection.ended_at.strftime("%Y-%m-%d %H:%M UTC"))
    if not public:
        pdf.pair(_("Inspectors"), ", ".join(inspection.inspectors))
    pdf.pair(
        _("Private interviews held"),
        str(inspection.interviews.count()),  # the number only: never who (OPCAT art. 21)
    )
    findings = list(inspection.findings.order_by("number"))
    for kind, heading in (
        ("finding", _("Findings")),
        ("recommendation", _("Recommendations and the facility's responses")),
    ):
        pdf.ln(4)
        pdf.para(heading, size=12, bold=True)
        rows = [f for f in findings if f.kind == kind]
        if not rows:
            pdf.para(_("None."))
        for f in rows:
            _finding(pdf, f, public=public)
    return bytes(pdf.output())


def _finding(pdf: _ReportPDF, f: Finding, *, public: bool) -> None:
    pdf.ln(1.5)
    head = f"{f.number}. " + (f"[{f.citation}] " if f.citation else "")
    pdf.para(head + f.text, bold=False)
    if not public:
        pdf.pair(_("Owner"), f.owner)
    pdf.pair(_("Deadline"), f.deadline.isoformat())
    pdf.pair(_("Status"), f.get_status_display())
    if f.response:
        pdf.pair(_("Facility's response"), f"{f.get_response_display()}: {f.response_text}")
    if f.closed_at is not None:
        pdf.pair(_("Closed"), f.closed_at.strftime("%Y-%m-%d"))
        if not public:
            pdf.pair(_("Follow-up"), f.closure_note)
