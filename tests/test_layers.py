"""No ORM lookup reaches upward (ARCHITECTURE.md, Layout): a lower app never names a higher
app's relation (``episodes__…``, ``placements__…``) in a lookup string. import-linter
(``make lint``) sees imports; this sees what imports cannot: the reverse relations that higher
apps' foreign keys add to a lower app's models, used by name in the lower app's code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "habeas"


def _layer_groups() -> list[list[str]]:
    """The app labels from the import-linter contract, highest layer first; apps of one layer
    (``"habeas.conditions | habeas.notifications"``) are independent siblings. An optional
    module (import-linter's ``(habeas.x)``) counts only when its app is installed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    installed = {c.label for c in apps.get_app_configs()}
    groups = []
    for layer in contract["layers"]:
        group = []
        for name in layer.split("|"):
            name = name.strip()
            optional = name.startswith("(") and name.endswith(")")
            label = name.strip("()").split(".")[-1]
            if not optional or label in installed:
                group.append(label)
        groups.append(group)
    return groups


def _layers() -> list[str]:
    return [label for group in _layer_groups() for label in group]


def _upward_relations() -> dict[str, set[str]]:
    """For each app, the names of the reverse relations that higher apps' models add to its
    models (a foreign key from ``housing.Placement`` to ``custody.CustodyEpisode`` gives
    custody the query name ``placements``)."""
    order = {  # 0 is the highest
        label: rank for rank, group in enumerate(_layer_groups()) for label in group
    }
    found: dict[str, set[str]] = {}
    for model in apps.get_models():
        low = model._meta.app_label
        if low not in order:
            continue
        for rel in model._meta.related_objects:
            high = rel.related_model._meta.app_label
            if high in order and order[high] < order[low]:
                found.setdefault(low, set()).add(rel.field.related_query_name())
    return found


def test_the_layer_list_names_every_app() -> None:
    labels = {c.label for c in apps.get_app_configs() if c.name.startswith("habeas.")}
    assert labels == set(_layers())


def test_no_lookup_string_reaches_into_a_higher_app() -> None:
    offences = []
    for app, names in _upward_relations().items():
        if not names:
            continue
        alternatives = "|".join(map(re.escape, sorted(names)))
        # a lookup string ("episodes__facility") or a keyword (episodes__facility__code=...)
        pattern = re.compile(rf"""["']({alternatives})(__\w+)["']|\b({alternatives})(__\w+)\s*=""")
        for path in sorted((SRC / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                stripped = line.split("#", 1)[0]
                if pattern.search(stripped):
                    where = path.relative_to(SRC)
                    offences.append(f"{where}:{number}: {line.strip()}")
    assert offences == [], "lookups into a higher app's relations:\n" + "\n".join(offences)
