"""Who may do what is said in one place: ``habeas.accounts.permissions`` (ARCHITECTURE.md,
users; HOUSE-STYLE: security-relevant lookups are written once).

A source scan of every module and template under ``src/habeas`` fails when a role check
appears anywhere else: a comparison with a user's or actor's ``role`` (``user.role ==``,
``getattr(user, "role")`` in a condition), a ``Role`` member, a role name compared or gathered
in a set, ``is_superuser`` / ``is_staff`` read as a condition, or a user's scope codes
(``facility_codes``, ``jurisdiction_code``) tested. Reading a role as data (a ledger snapshot,
``Actor.from_user``) is not a check and is not flagged. Files are read at test time, so new
files are covered as soon as they exist.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from habeas.accounts.choices import Role

SRC = Path(__file__).resolve().parent.parent / "src" / "habeas"

#: Where role checks belong: the permissions module, and the accounts app's own definitions
#: of the role (model, choices, migrations, admin).
HOME = ("accounts/permissions.py", "accounts/models.py", "accounts/choices.py", "accounts/admin.py")


@dataclass(frozen=True)
class Allowed:
    """A file that checks a role itself, and why it cannot call ``accounts.permissions``."""

    path: str  # relative to src/habeas
    why: str


#: Documented exceptions.
ALLOWLIST: list[Allowed] = [
    Allowed(
        "ledger/api.py",
        "the ledger sits below accounts (core ← ledger ← accounts): it may not import "
        "accounts.permissions, so its one check (entries hold personal data: auditor and "
        "oversight only) reads the user duck-typed",
    ),
]

ROLE_NAMES = frozenset(Role.values)
#: Attributes that are role or scope checks wherever they are read as a condition.
FLAG_ATTRS = frozenset(
    {"is_superuser", "is_staff", "sees_everything", "sees_housing", "is_facility_role"}
)
SCOPE_ATTRS = frozenset({"role", "facility_codes", "jurisdiction_code"})
USERISH = re.compile(r"user|actor", re.IGNORECASE)


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    code: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}: {self.code.strip()}"


def _base_name(node: ast.AST) -> str:
    """``request.user`` → ``user``; ``self.actor`` → ``actor``; ``user`` → ``user``."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _getattr_name(node: ast.AST) -> tuple[ast.AST, str] | None:
    """``getattr(obj, "name", ...)`` → ``(obj, "name")``."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"getattr", "hasattr"}
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        return node.args[0], node.args[1].value
    return None


def _is_role_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in ROLE_NAMES


def _conditions(tree: ast.AST) -> Iterator[ast.AST]:
    """Every expression used as a condition: tests, boolean operands, comparisons."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert):
            yield node.test
        elif isinstance(node, ast.comprehension):
            yield from node.ifs
        elif isinstance(node, ast.BoolOp):
            last = node.values[-1]
            if isinstance(node.op, ast.Or) and isinstance(last, ast.Constant):
                continue  # ``user.role or "-"``: a default for display, not a check
            yield from node.values
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node.operand
        elif isinstance(node, ast.Compare):
            yield node
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "bool"
        ):
            yield from node.args


def role_checks_in_source(source: str, path: str = "<string>") -> list[Violation]:
    """Every role check in ``source`` (see module docstring)."""
    tree = ast.parse(source, filename=path)
    lines = source.splitlines()
    found: dict[tuple[int, str], Violation] = {}

    def flag(node: ast.AST, what: str) -> None:
        line = getattr(node, "lineno", 0)
        code = lines[line - 1] if 0 < line <= len(lines) else ""
        found.setdefault((line, what), Violation(path, line, code, what))

    for node in ast.walk(tree):
        # A member of the Role choices (``Role.LIAISON``), anywhere.
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Role"
            and node.attr in Role.names
        ):
            flag(node, f"Role.{node.attr}")
        # A set of role names (``{"auditor", "oversight"}``, ``frozenset({...})``).
        elif isinstance(node, ast.Set) and any(_is_role_name(e) for e in node.elts):
            flag(node, "a set of role names")
    for cond in _conditions(tree):
        for node in ast.walk(cond):
            if isinstance(node, ast.Attribute) and node.attr in FLAG_ATTRS:
                flag(node, f".{node.attr} in a condition")
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in SCOPE_ATTRS
                and USERISH.search(_base_name(node.value))
            ):
                flag(node, f"a user's .{node.attr} in a condition")
            elif (got := _getattr_name(node)) is not None and (
                got[1] in FLAG_ATTRS
                or (got[1] in SCOPE_ATTRS and USERISH.search(_base_name(got[0])))
            ):
                flag(node, f"getattr(..., {got[1]!r}) in a condition")
            elif isinstance(cond, ast.Compare) and _is_role_name(node):
                flag(node, f"role name {node.value!r} compared")  # type: ignore[attr-defined]
    return sorted(found.values(), key=lambda v: (v.line, v.what))


TEMPLATE_CHECK = re.compile(
    r"\buser\.(role|is_superuser|is_staff|sees_everything|sees_housing|is_facility_role"
    r"|facility_codes|jurisdiction_code)\b"
)


def role_checks_in_template(source: str, path: str = "<string>") -> list[Violation]:
    """Role checks in a template's tags (``{% if user.role == ... %}``)."""
    found: list[Violation] = []
    for number, line in enumerate(source.splitlines(), 1):
        for tag in re.findall(r"{%.*?%}", line):
            if m := TEMPLATE_CHECK.search(tag):
                found.append(Violation(path, number, line, f"user.{m.group(1)} in a template"))
    return found


def _scanned(suffix: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(SRC.rglob(f"*{suffix}")):
        rel = path.relative_to(SRC).as_posix()
        if "migrations" in path.parts or rel in HOME:
            continue
        if any(a.path == rel for a in ALLOWLIST):
            continue
        yield rel, path


def test_scanner_finds_role_checks() -> None:
    """The scan itself is not vacuous: each form is found, harmless look-alikes not."""
    source = """
def view(request, user, actor, qs, spec):
    if user.role == "liaison": pass
    if getattr(user, "role", "") in ENTRY_ROLES: pass
    ADMIN = {"facility_admin", "system"}
    ok = request.user.is_superuser or user.is_facility_role
    if not getattr(user, "sees_housing", False): pass
    return Role.FINANCE
    if actor.role not in ADMIN: pass
    if code in (user.facility_codes or []): pass
    if user.jurisdiction_code == agreement.sending.code: pass
    if kind == "finance": pass
    # look-alikes that must not be flagged
    snapshot = {"role": user.role, "is_staff": user.is_staff}
    shown = getattr(user, "role", "") or "-"
    Actor(name="x", role=str(getattr(user, "role", "")))
    if spec.role not in KeepApartRole.values: pass
    router = Router(tags=["oversight"])
    qs.filter(code__in=scope.facility_codes)
"""
    hits = role_checks_in_source(source)
    assert sorted({v.line for v in hits}) == list(range(3, 13)), "\n".join(map(str, hits))


def test_scanner_finds_template_role_checks() -> None:
    source = (
        '{% if user.role != "finance" or user.is_superuser %}\n'
        "{% if may.view_housing %}\n"
        "{{ user.username }}\n"
        "{% if user.is_facility_role %}\n"
    )
    assert [v.line for v in role_checks_in_template(source)] == [1, 4]


def test_allowlisted_files_exist() -> None:
    for allowed in ALLOWLIST:
        assert (SRC / allowed.path).is_file(), f"stale allow-list entry: {allowed.path}"


def test_role_checks_live_in_accounts_permissions() -> None:
    violations = [
        v
        for rel, path in _scanned(".py")
        for v in role_checks_in_source(path.read_text(encoding="utf-8"), rel)
    ] + [
        v
        for rel, path in _scanned(".html")
        for v in role_checks_in_template(path.read_text(encoding="utf-8"), rel)
    ]
    assert not violations, (
        "role checks outside habeas.accounts.permissions (add or call a predicate there):\n"
        + "\n".join(str(v) for v in violations)
    )
