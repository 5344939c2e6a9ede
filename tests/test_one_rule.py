"""The one rule (ARCHITECTURE.md): every change goes through a service.

(a) ``ServiceModel.save`` and ``.delete`` refuse to run outside a service, for every concrete
    domain model the app registry knows (so a model added later is covered too);
(b) a source scan proves that API handlers, views, management commands, tasks, admin modules
    and template tags never write to the database themselves. The files are read at test time,
    so new files are covered as soon as they exist.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from habeas.core.services import ServiceModel, WriteOutsideService, in_service, service_context

SRC = Path(__file__).resolve().parent.parent / "src" / "habeas"


def service_models() -> list[type[ServiceModel]]:
    return sorted(
        (
            m
            for m in apps.get_models()
            if issubclass(m, ServiceModel) and not m._meta.abstract and not m._meta.proxy
        ),
        key=lambda m: m._meta.label,
    )


# --- (a) the save guard -----------------------------------------------------------------------


def test_every_domain_app_has_service_models() -> None:
    labels = {m._meta.app_label for m in service_models()}
    assert {"people", "agreements", "facilities", "custody"} <= labels


@pytest.mark.parametrize("model", service_models(), ids=lambda m: m._meta.label)
def test_save_outside_service_is_refused(model: type[ServiceModel]) -> None:
    # No database access: the guard must refuse before any query is sent.
    assert not in_service()
    with pytest.raises(WriteOutsideService, match=model.__name__):
        model().save()


@pytest.mark.parametrize("model", service_models(), ids=lambda m: m._meta.label)
def test_delete_outside_service_is_refused(model: type[ServiceModel]) -> None:
    obj = model()
    obj.pk = 1
    with pytest.raises(WriteOutsideService, match=model.__name__):
        obj.delete()


@pytest.mark.django_db
def test_stored_rows_cannot_be_saved_or_deleted_outside_a_service(
    world: dict[str, Any], actor: Any
) -> None:
    from habeas.custody.models import CustodyEpisode, LegalBasis
    from habeas.facilities.models import Cell, Module
    from habeas.housing.models import Placement
    from habeas.people.models import PersonIdentifier
    from tests.conftest import admit, make_person

    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"])
    rows: list[ServiceModel] = [
        world["tec"],
        world["us"],
        world["us"].sending,
        Module.objects.first(),  # type: ignore[list-item]
        Cell.objects.first(),  # type: ignore[list-item]
        person,
        PersonIdentifier.objects.first(),  # type: ignore[list-item]
        LegalBasis.objects.first(),  # type: ignore[list-item]
        CustodyEpisode.objects.first(),  # type: ignore[list-item]
        Placement.objects.first(),  # type: ignore[list-item]
    ]
    covered = {type(r) for r in rows}
    assert covered == set(service_models()) - _models_without_rows_here(), "extend this list"
    for row in rows:
        with pytest.raises(WriteOutsideService):
            row.save()
        with pytest.raises(WriteOutsideService):
            row.delete()
    # And inside a service context the same save goes through (the guard is not a blanket ban).
    with service_context():
        world["tec"].save()


def _models_without_rows_here() -> set[type[ServiceModel]]:
    """Service models of apps added after this test was written: covered by (a) above."""
    known = {
        "agreements.Agreement",
        "agreements.Jurisdiction",
        "custody.CustodyEpisode",
        "custody.LegalBasis",
        "housing.Placement",
        "facilities.Cell",
        "facilities.Facility",
        "facilities.Module",
        "people.Person",
        "people.PersonIdentifier",
    }
    return {m for m in service_models() if m._meta.label not in known}


# --- (b) the source scan ----------------------------------------------------------------------

#: Manager/queryset methods that write. ``X.objects.<one of these>(...)`` is always a write.
WRITING_MANAGER_METHODS = {
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
}
#: Queryset methods whose result can be written through (``Model.objects.filter(...).update()``).
QUERYSET_METHODS = {
    "objects",
    "filter",
    "exclude",
    "all",
    "select_for_update",
    "select_related",
    "prefetch_related",
    "visible_to",
    "open",
    "order_by",
    "using",
    "none",
}


@dataclass(frozen=True)
class Allowed:
    """A write that is not a domain change, and why it may stay outside a service."""

    path_glob: str  # relative to src/habeas
    pattern: str  # regex searched in the offending source line
    why: str


#: Documented exceptions. Bookkeeping on non-domain tables only (never a ServiceModel).
ALLOWLIST: list[Allowed] = [
    Allowed(
        "*.py",
        r"\b(token|api_token|apitoken)\w*\.save\(\s*update_fields=\[\s*['\"]last_used_at['\"]\s*\]",
        "API token last-used bookkeeping: accounts.APIToken is not a domain model",
    ),
    Allowed(
        "*.py",
        r"APIToken\.objects\.filter\(.*\)\.update\(\s*last_used_at=",
        "API token last-used bookkeeping: accounts.APIToken is not a domain model",
    ),
    Allowed(
        "*.py",
        r"\b(session|request\.session)\.(save|delete)\(",
        "Django session bookkeeping, not a domain model",
    ),
]


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    code: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}: {self.code.strip()}"


def _chain(node: ast.AST) -> list[str]:
    """The attribute/call names of a receiver, outermost last: ``A.objects.filter(x).update``
    → ``['A', 'objects', 'filter', 'update']``."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            names.append(node.id)
            break
        else:
            break
    return list(reversed(names))


def writes_in_source(source: str, path: str = "<string>") -> list[Violation]:
    """Every call in ``source`` that writes a model (see module docstring)."""
    tree = ast.parse(source, filename=path)
    lines = source.splitlines()
    found: list[Violation] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        method = node.func.attr
        chain = _chain(node.func)
        receiver = chain[:-1]
        what = ""
        if method in {"save", "delete"} and not node.args:
            # Model.save()/delete() take no positional arguments; file.save(path) and
            # cache.delete(key) do, and are not model writes.
            what = f".{method}()"
        elif method in {"bulk_create", "bulk_update"}:
            what = f".{method}()"
        elif method in WRITING_MANAGER_METHODS and "objects" in receiver:
            what = f".objects...{method}()"
        elif method in {"update", "delete"} and receiver and receiver[-1] in QUERYSET_METHODS:
            what = f"queryset.{method}()"
        elif method == "update" and not node.args and node.keywords:
            # QuerySet.update takes keywords only (dict.update(mapping) is not flagged).
            what = ".update(**fields)"
        if what:
            code = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else ""
            found.append(Violation(path, node.lineno, code, what))
    return found


def scanned_files() -> Iterator[Path]:
    patterns = [
        "**/api.py",
        "**/api/*.py",
        "**/views.py",
        "**/views/*.py",
        "**/management/commands/*.py",
        "**/templatetags/*.py",
        "**/tasks.py",
        "**/admin.py",
    ]
    seen: set[Path] = set()
    for pattern in patterns:
        for path in sorted(SRC.glob(pattern)):
            if path not in seen and "migrations" not in path.parts:
                seen.add(path)
                yield path


def _allowed(violation: Violation) -> bool:
    rel = Path(violation.path)
    return any(rel.match(a.path_glob) and re.search(a.pattern, violation.code) for a in ALLOWLIST)


def test_scanner_finds_writes() -> None:
    """The scan itself is not vacuous: each forbidden form is found, harmless look-alikes not."""
    source = """
def view(request, person, qs, form, cache, data, img):
    person.save()
    person.save(update_fields=["sex"])
    person.delete()
    Person.objects.create(given_names="x")
    Person.objects.get_or_create(pk=1)
    Person.objects.update_or_create(pk=1)
    Cell.objects.filter(pk=1).update(active=False)
    Cell.objects.filter(pk=1).delete()
    Person.objects.visible_to(request.user).all().delete()
    Person.objects.bulk_create([])
    qs.bulk_update([], ["x"])
    qs.update(active=False)
    form.save()
    # look-alikes that must not be flagged
    data.update({"a": 1})
    data.update(other)
    cache.delete("key")
    img.save("/tmp/x.png")
    Person.objects.filter(pk=1).first()
"""
    hits = writes_in_source(source)
    assert sorted(v.line for v in hits) == list(range(3, 16))


def test_scanner_allowlist_is_narrow() -> None:
    ok = writes_in_source('token.save(update_fields=["last_used_at"])\n', "accounts/api.py")
    bad = writes_in_source('token.save(update_fields=["revoked_at"])\n', "accounts/api.py")
    assert ok
    assert all(_allowed(v) for v in ok)
    assert bad
    assert not any(_allowed(v) for v in bad)


def test_handlers_commands_and_tags_never_write_models() -> None:
    files = list(scanned_files())
    assert files, "nothing scanned: has src/habeas moved?"
    violations = [
        v
        for path in files
        for v in writes_in_source(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))
        if not _allowed(v)
    ]
    assert not violations, (
        "writes outside a service (call a services.py function instead):\n"
        + "\n".join(str(v) for v in violations)
    )


@pytest.mark.django_db
def test_queryset_writes_outside_a_service_are_refused(world: dict[str, Any]) -> None:
    from habeas.facilities.models import Cell

    with pytest.raises(WriteOutsideService):
        Cell.objects.filter(code="M1-01").update(working_capacity=1)
