"""The documentation in the repository stands alone: every Habeas command is described in
docs/cli.md, and the README and docs point to no folder a clone does not have."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]


def test_every_habeas_command_is_in_docs_cli() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    described = set(re.findall(r"\*\*`([a-z][a-z-]*)", text))
    ours = {name for name, app in get_commands().items() if app.startswith("habeas.")}
    assert ours - described == set()


def test_links_of_readme_and_docs_resolve_inside_the_repository() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        assert "spec/" not in text, doc
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (doc.parent / target).exists(), f"{doc.name}: {target}"
