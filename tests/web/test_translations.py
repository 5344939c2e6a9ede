"""The Spanish catalogue is complete and compiled: every message has a translation, none is
fuzzy, the compiled .mo says what the .po says, and the simple literal messages of the
templates and the code are in it (a string added without a translation fails here)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "habeas"
CATALOGUE = SRC / "locale" / "es" / "LC_MESSAGES"


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def parse_po(path: Path) -> list[dict[str, object]]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list), flags."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    key = ""
    parts: dict[str, list[str]] = {}

    def close() -> None:
        nonlocal entry, parts
        if parts:
            entry["msgid"] = _unquote(parts.get("msgid", []))
            entry["msgctxt"] = _unquote(parts["msgctxt"]) if "msgctxt" in parts else None
            entry["msgid_plural"] = _unquote(parts.get("msgid_plural", []))
            entry["msgstr"] = [
                _unquote(v) for k, v in sorted(parts.items()) if k.startswith("msgstr")
            ]
            entries.append(entry)
        entry, parts = {}, {}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
        elif line.startswith("#,"):
            if parts:
                close()
            entry["flags"] = {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):  # comments, references, obsolete entries
            continue
        elif line.startswith('"'):
            parts[key].append(line)
        else:
            key, _sep, rest = line.partition(" ")
            if key == "msgid" and "msgid" in parts:
                close()
            parts[key] = [rest]
    close()
    return entries


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    entries = [e for e in parse_po(CATALOGUE / "django.po") if e["msgid"]]
    assert len(entries) > 500
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e.get("flags", set())]  # type: ignore[operator]
    assert fuzzy == []
    empty = [e["msgid"] for e in entries if not all(e["msgstr"])]  # type: ignore[arg-type]
    assert empty == []


def test_the_compiled_catalogue_matches_the_po() -> None:
    with (CATALOGUE / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for e in parse_po(CATALOGUE / "django.po"):
        msgid, msgstr = str(e["msgid"]), e["msgstr"]
        if not msgid or e["msgid_plural"]:
            continue
        if e["msgctxt"] is not None:
            got = compiled.pgettext(str(e["msgctxt"]), msgid)
        else:
            got = compiled.gettext(msgid)
        assert got == msgstr[0], f"django.mo is stale for {msgid!r}: run compilemessages"  # type: ignore[index]


#: Single literal messages: ``{% translate "…" %}`` in templates and ``_("…")``,
#: ``gettext("…")``, ``gettext_lazy("…")`` in code (concatenations and blocktranslate are
#: left to makemessages).
TEMPLATE_MSG = re.compile(
    r"""\{%\s*translate\s+"([^"{}]+)"(?:\s+context\s+"[^"]*")?\s*(?:as\s+\w+\s*)?%\}"""
)
CODE_MSG = re.compile(r"""(?<![\w.])(?:_|gettext|gettext_lazy)\(\s*"((?:[^"\\\n]|\\.)*)"\s*[,)]""")


def test_literal_messages_of_templates_and_code_are_in_the_catalogue() -> None:
    known = {str(e["msgid"]) for e in parse_po(CATALOGUE / "django.po")}
    missing = []
    for path in SRC.rglob("*.html"):
        for msgid in TEMPLATE_MSG.findall(path.read_text(encoding="utf-8")):
            if msgid not in known:
                missing.append(f"{path.relative_to(SRC)}: {msgid}")
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for msgid in CODE_MSG.findall(path.read_text(encoding="utf-8")):
            text = ast.literal_eval(f'"{msgid}"')
            if text not in known:
                missing.append(f"{path.relative_to(SRC)}: {text}")
    assert missing == []
