"""The base of every PDF Habeas prints (the person file, invoices and notes): A4, DejaVu Sans
when the font is installed (every script a name may be written in), Helvetica with Latin-1
text otherwise, and a footer line with ``n/N`` page numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"


class HabeasPDF(FPDF):
    """A4 with the fonts above; ``footer_text`` on the left of every page's footer."""

    def __init__(self, footer_text: str, *, margins: tuple[float, float, float]) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.unicode = FONT_REGULAR.exists()
        if self.unicode:
            self.add_font("DejaVu", "", str(FONT_REGULAR))
            self.add_font("DejaVu", "B", str(FONT_BOLD if FONT_BOLD.exists() else FONT_REGULAR))
            self.family = "DejaVu"
        else:
            self.family = "Helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(*margins)

    def text_of(self, value: Any) -> str:
        """``value`` as the font can print it: a dash for nothing; Latin-1 without DejaVu."""
        text = "—" if value in (None, "") else str(value)
        if not self.unicode:
            text = text.replace("—", "-").encode("latin-1", "replace").decode("latin-1")
        return text

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)
