"""Table-vs-ledger verification (ARCHITECTURE.md rule 4; issue: accountability, item 3).

Replaying the ledger gives the state the ledger vouches for; comparing it with the tables finds
a row changed, added or removed behind Habeas's back, named as ``table.row.field``.

Each domain app declares, in its ``events.py`` (the registry, :mod:`habeas.core.events`), the
replays of its actions and a snapshot of each table it covers *in the same representation*,
so the ledger app stays below the domain apps (it imports none of them).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from habeas.core import events as registry
from habeas.core.canonical import loads
from habeas.core.events import State, Table
from habeas.ledger import privacy


@dataclass
class Difference:
    where: str
    message: str


@dataclass
class ReplayResult:
    differences: list[Difference] = field(default_factory=list)
    unknown_actions: set[str] = field(default_factory=set)


def _entries() -> Iterator[tuple[int, str]]:
    from habeas.ledger.models import LedgerEntry

    last = -1
    while True:
        batch = list(
            LedgerEntry.objects.filter(index__gt=last)
            .order_by("index")
            .values_list("index", "canonical")[:5000]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


def replay(errors: list[Difference] | None = None) -> State:
    """The state the ledger vouches for. An entry whose payload its action's replay cannot
    read (a field missing, of another type) is named in ``errors`` rather than stopping the
    verification: it was written outside the services, or by another version."""
    state: State = {}
    for index, canonical in _entries():
        doc = loads(canonical)
        action = doc["action"]
        for handler in registry.replays(action):
            try:
                handler(state, doc["payload"])
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                if errors is not None:
                    errors.append(
                        Difference(
                            f"entry {index}",
                            f"the payload of {action} cannot be replayed ({exc!r}): a "
                            "field is missing or malformed",
                        )
                    )
    return state


#: What a personal field is compared as once its subject was erased (key and body gone).
ERASED_VALUE = "(erased)"
NO_KEY_VALUE = "(the data subject's key is missing)"


def _blank(value: Any) -> bool:
    return value in (None, "", [], {})


def _commit_personal(
    table: registry.CoveredTable,
    rows: Table,
    want: Table,
    keys: dict[str, bytes],
    erased: Table,
) -> None:
    """Personal fields of the table's rows as the ledger holds them: the commitment under the
    subject's key; for an erased subject, ``(erased)`` on both sides when the body is gone (a
    body kept after erasure shows as a difference); a key missing without an erasure on the
    ledger shows as a difference too."""
    name_of = table.key or (lambda row_id, row: f"{table.name}:{row_id}")
    for row_id, row in rows.items():
        name = name_of(row_id, row)
        key = keys.get(name)
        for f in table.personal:
            if f not in row:
                continue
            if key is not None:
                row[f] = privacy.commitment(key, row[f])
            elif name in erased:
                if _blank(row[f]):
                    row[f] = ERASED_VALUE
                if row_id in want:
                    want[row_id][f] = ERASED_VALUE
            else:
                row[f] = NO_KEY_VALUE


def compare(limit: int = 50, tables: Collection[str] | None = None) -> ReplayResult:
    """Differences between the replayed ledger and the tables (at most ``limit`` named).

    ``tables`` limits the comparison to those covered tables (by name): the whole ledger is
    still replayed, but only their rows are read and compared. The full comparison is the
    union of the per-table ones, since each table is compared on its own."""
    result = ReplayResult()
    expected = replay(result.differences)
    actual: State = {}
    erased = expected.pop(registry.ERASED, {})
    keys = privacy.all_keys()
    for covered in registry.REGISTRY.tables.values():
        if tables is not None and covered.name not in tables:
            continue
        rows = covered.snapshot()
        if covered.personal:
            _commit_personal(covered, rows, expected.get(covered.name, {}), keys, erased)
        actual[covered.name] = rows
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            continue  # a table the ledger mentions but no app snapshots (not compared)
        want = expected.get(table, {})
        have = actual[table]
        for key in sorted(set(want) | set(have), key=str):
            if len(result.differences) >= limit:
                return result
            if key not in have:
                result.differences.append(
                    Difference(
                        f"{table}.{key}", "row removed: the ledger records it, the table lacks it"
                    )
                )
            elif key not in want:
                result.differences.append(
                    Difference(
                        f"{table}.{key}",
                        "row added behind Habeas's back: no ledger entry records it",
                    )
                )
            else:
                for name in sorted(set(want[key]) | set(have[key])):
                    a, b = want[key].get(name), have[key].get(name)
                    if a != b:
                        result.differences.append(
                            Difference(
                                f"{table}.{key}.{name}",
                                f"changed behind Habeas's back: the ledger says {a!r}, "
                                f"the table holds {b!r}",
                            )
                        )
    return result
