"""The event registry (ARCHITECTURE.md, the one rule, item 6).

Every ledger action is declared once, in its app's ``events.py``, as an :class:`Action`: its
name, which payload fields are personal (recorded on the ledger only as keyed commitments,
ARCHITECTURE.md "Personal data and the ledger"), its replay (what it does to the tables, used by
``verify-ledger``), its summary in human words (the person's history), and its effect on the
housing snapshot. Every table that holds state is declared too: covered by a snapshot that
``verify-ledger`` compares with the replayed ledger, or derived (rebuildable), with a reason.

Apps above the one that appends an action may react to it in the same transaction with
:func:`on_appended` (a release closes the placement; a new name re-indexes the locator): the
dependency points upward through the registry, never through an import.

This module is the registry's base: it imports no app. ``habeas.ledger`` reads it when it
appends and verifies; ``events.py`` modules are imported by :func:`autodiscover` at start-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import pydantic

from habeas.core.canonical import plain

Row = dict[str, Any]
Table = dict[Any, Row]
State = dict[str, Table]
Replay = Callable[[State, dict[str, Any]], None]
Summary = Callable[[dict[str, Any], bool], str]
Snapshot = Callable[[], State]


class AppendedEvent(Protocol):
    """What a listener is handed for each appended entry (``habeas.ledger.services.Event``)."""

    @property
    def action(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


Listener = Callable[[Sequence[AppendedEvent]], None]


class Payload(pydantic.BaseModel):
    """The base of every payload schema (:attr:`Action.schema`) and of its nested objects:
    a field the schema does not name is refused."""

    model_config = pydantic.ConfigDict(extra="forbid")


#: A commitment on the ledger (``"hmac-sha256:<hex>"``) in place of a personal value.
Committed = str


#: The housing effect of an action not classified (see :attr:`Action.housing`).
READ_AFRESH = "afresh"


@dataclass(frozen=True)
class Action:
    """One ledger action, ``<app>.<past-tense verb>``.

    - ``personal``: paths into the payload of the values that are personal data (names, dates
      of birth, contacts, injuries, complaints, property, free text). A path is dot-separated;
      ``*`` stands for every element of a list. These values go on the ledger only as
      HMAC-SHA-256 commitments under the data subject's key (``habeas.ledger.privacy``).
    - ``key``: which data subject's key commits the personal values: a function of the entry's
      subject and payload returning a key name such as ``person:12``; by default the subject.
    - ``replay``: applies the payload to the replayed state (``verify-ledger``).
    - ``summary``: the history line; the flag says whether cells may be shown.
    - ``housing``: the effect on a housing snapshot, read by ``habeas.housing`` (opaque here);
      by default :data:`READ_AFRESH`: an action nobody has classified yet makes whatever
      housing keeps be read again (costs time, never correctness).
    - ``public_history``: shown to every role that may see the person's file (a liaison sees
      identity and custody, never the admission record nor relatives' notifications).
    - ``schema``: the payload's pydantic model (``<Verb>Payload``, next to the action in its
      ``events.py``), as the service builds it, before personal values are replaced by
      commitments; on the ledger a personal path holds a ``"hmac-sha256:<hex>"`` string
      instead, so a personal field's type also admits that string. The same schema validates
      the service's payload and the ledger's copy (times and dates as objects or ISO text);
      it forbids unknown fields, so a field added to a payload without its schema is caught.
    """

    name: str
    label: Any = None
    personal: tuple[str, ...] = ()
    key: Callable[[str, dict[str, Any]], str] | None = None
    replay: Replay | None = None
    summary: Summary | None = None
    housing: Any = READ_AFRESH
    public_history: bool = False
    schema: type[pydantic.BaseModel] | None = None

    def key_for(self, subject: str, payload: dict[str, Any]) -> str:
        return self.key(subject, payload) if self.key is not None else subject


@dataclass(frozen=True)
class CoveredTable:
    """A table whose rows ``verify-ledger`` compares with the replayed ledger.

    ``name`` is the name used in ``table.row.field`` (the model label, or ``label.relation``
    for a many-to-many), ``models`` the model labels whose rows it reads (the tamper matrix
    edits each), ``personal`` the fields that are compared as commitments, under the key
    of the data subject ``key(row_id, row)`` names."""

    name: str
    snapshot: Callable[[], Table]
    models: tuple[str, ...] = ()
    personal: tuple[str, ...] = ()
    key: Callable[[Any, Row], str] | None = None


@dataclass(frozen=True)
class DerivedTable:
    """A table that holds no state of its own: rebuildable from covered tables or the ledger,
    or operational (sessions, caches). ``reason`` says which."""

    model: str
    reason: str


@dataclass
class Registry:
    actions: dict[str, Action] = field(default_factory=dict)
    tables: dict[str, CoveredTable] = field(default_factory=dict)
    derived: dict[str, DerivedTable] = field(default_factory=dict)
    listeners: dict[str, list[Listener]] = field(default_factory=dict)
    replays: dict[str, list[Replay]] = field(default_factory=dict)
    person_keys: list[Callable[[int], list[str]]] = field(default_factory=list)


REGISTRY = Registry()


class DuplicateDeclaration(RuntimeError):
    """An action or table declared twice: each is declared once, in its own app."""


def declare(*actions: Action) -> None:
    for action in actions:
        if action.name in REGISTRY.actions and REGISTRY.actions[action.name] != action:
            raise DuplicateDeclaration(f"ledger action {action.name} declared twice")
        REGISTRY.actions[action.name] = action


def action(name: str) -> Action | None:
    return REGISTRY.actions.get(name)


def covers(
    name: str,
    *,
    models: Iterable[str] = (),
    personal: Iterable[str] = (),
    key: Callable[[Any, Row], str] | None = None,
) -> Callable[[Callable[[], Table]], Callable[[], Table]]:
    """Declare ``name`` covered, read by the decorated snapshot function."""

    def register(fn: Callable[[], Table]) -> Callable[[], Table]:
        REGISTRY.tables[name] = CoveredTable(
            name, fn, tuple(models) or (name,), tuple(personal), key
        )
        return fn

    return register


#: The state table in which replays of ``…erased`` actions name the data subjects whose key
#: was destroyed by erasure: ``{key_name: {"at": time}}``.
ERASED = "ledger.SubjectKey.erased"


def derived(model: str, reason: str) -> None:
    REGISTRY.derived[model] = DerivedTable(model, reason)


def on_appended(*actions: str) -> Callable[[Listener], Listener]:
    """Run the decorated function in the appending transaction, after the entries of these
    actions are written, with those events (their payloads as the service built them)."""

    def register(fn: Listener) -> Listener:
        for name in actions:
            found = REGISTRY.listeners.setdefault(name, [])
            if fn not in found:
                found.append(fn)
        return fn

    return register


def on_replay(*actions: str) -> Callable[[Replay], Replay]:
    """A higher app's part of the replay of a lower app's action (the placement an admission
    opens is replayed by ``habeas.housing``), run after the action's own replay."""

    def register(fn: Replay) -> Replay:
        for name in actions:
            found = REGISTRY.replays.setdefault(name, [])
            if fn not in found:
                found.append(fn)
        return fn

    return register


def replays(name: str) -> list[Replay]:
    """Every replay of one action: its own, then those other apps registered."""
    own = REGISTRY.actions.get(name)
    first = [own.replay] if own is not None and own.replay is not None else []
    return first + REGISTRY.replays.get(name, [])


def dispatch(events: Sequence[AppendedEvent]) -> None:
    """Hand appended events to their listeners, each listener once per append."""
    listeners = REGISTRY.listeners
    if not listeners:
        return
    calls: dict[Listener, list[AppendedEvent]] = {}
    for event in events:
        for fn in listeners.get(event.action, ()):
            calls.setdefault(fn, []).append(event)
    for fn, batch in calls.items():
        fn(batch)


def subject_keys(fn: Callable[[int], list[str]]) -> Callable[[int], list[str]]:
    """Register which further commitment keys hold a person's data (a manifest row matched to
    them is committed under ``entry:<id>``): erasure destroys them with the person's own."""
    if fn not in REGISTRY.person_keys:
        REGISTRY.person_keys.append(fn)
    return fn


def keys_of_person(person_id: int) -> list[str]:
    """Every commitment key that holds this person's data: ``person:<id>`` and those the apps
    registered with :func:`subject_keys`."""
    names = [f"person:{person_id}"]
    for fn in REGISTRY.person_keys:
        names.extend(fn(person_id))
    return sorted(set(names))


def blank_values(model: Any, fields: Iterable[str]) -> dict[str, Any]:
    """What erasure leaves in each personal column: an empty text, an empty JSON value of
    the column's default kind, or NULL."""
    values: dict[str, Any] = {}
    for name in fields:
        f = model._meta.get_field(name)
        if f.get_internal_type() == "JSONField":
            default = f.get_default()
            values[name] = type(default)() if isinstance(default, list | dict) else None
        elif f.null:
            values[name] = None
        else:
            values[name] = ""
    return values


def autodiscover() -> None:
    """Import every installed app's ``events.py`` (Django's own module autodiscovery)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("events")


# --- the representation shared by replays and snapshots ------------------------------------


def dec(value: Any) -> str | None:
    """Decimals compare by value: ``100.0`` (from TOML) equals ``100.00`` (from the table)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(number.normalize(), "f")


def instant(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    result: str = plain(value)
    return result


def day(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return str(value.isoformat())


def amend(
    table: Table,
    key: Any,
    changes: dict[str, list[Any]],
    norm: Mapping[str, Callable[[Any], Any]] | None = None,
) -> None:
    """Apply an ``…_amended`` payload's ``{"field": [old, new]}`` changes to one row."""
    row = table.setdefault(key, {})
    for name, (_, new) in changes.items():
        row[name] = (norm or {}).get(name, lambda v: v)(new)
