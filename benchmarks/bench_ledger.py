"""Benchmark 1: appending to the ledger inside transactions (docs/benchmarks.md).

Habeas, through its services API, on a fresh database each run:

* bulk: ``ledger_append_many`` with batches of 1,000 ``custody.admitted``-like events (payload
  about 320 bytes of canonical JSON), one ``service_context()`` transaction per batch, 100,000
  entries in all;
* single: ``ledger_append`` in its own ``service_context()`` transaction, 2,000 times.

Baselines, measured in the same process on the rows the first bulk run stored (read back from
the database, so they follow whatever Habeas stores):

* a SHA-256 hash chain in pure Python over the same canonical bytes, ``h = sha256(h + data)``;
* plain ``executemany`` (sqlite3, or psycopg with ``--postgres``) of the same entry rows into a
  table like Habeas's (same columns and indexes), 1,000 rows per transaction; and the same plus
  the Merkle node rows Habeas stored for each batch;
* one plain ``INSERT`` per transaction, for the single appends.

Two components of Habeas's own work without any database (canonical JSON + leaf hash; Merkle
interior nodes) show how much of the time is Python, not SQL.

Target (for later issues): at least 100,000 entries/s in bulk.

Usage: ``python benchmarks/bench_ledger.py [--postgres] [--runs N] [--profile] [--json F]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Sequence
from typing import Any

import _common as common

TOTAL = 100_000
BATCH = 1_000
SINGLE = 2_000
COMPONENT = 20_000  # the no-database components are timed on a slice (they are steady)
TARGET_BULK = 100_000  # entries/s
DEFAULT_RUNS = 5

_BASE = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
ACTOR_NAME = "system:bench"


def payload(i: int) -> dict[str, Any]:
    """A ``custody.admitted``-like payload (~320 bytes of canonical JSON)."""
    at = _BASE + dt.timedelta(seconds=i)
    return {
        "episode": {
            "id": i + 1,
            "person": i + 1,
            "facility": "TEC",
            "agreement": "US-SV-2025",
            "admitted_at": at,
            "legal_bases": [i + 1],
        },
        "legal_basis": {"kind": "criminal_sentence", "ref": f"1:24-cr-{i:05d}", "sentence": "P10Y"},
        "placement": {
            "id": i + 1,
            "cell": f"TEC/M{i % 8 + 1}-{i % 32 + 1:02d}",
            "started_at": at,
            "reason": "admission",
        },
    }


def make_events(n: int) -> list[Any]:
    from habeas.ledger.services import Event

    return [
        Event(
            action="custody.admitted",
            subject=f"person:{i + 1}",
            payload=payload(i),
            occurred_at=_BASE + dt.timedelta(seconds=i),
        )
        for i in range(n)
    ]


class LedgerRows:
    """The rows the first measured bulk run stored, read back for the baselines."""

    def __init__(self, entries: list[tuple[Any, ...]], nodes: list[tuple[Any, ...]]) -> None:
        self.entries = entries
        self.datas = [str(row[6]).encode("utf-8") for row in entries]
        self.leaves = [bytes.fromhex(row[7]) for row in entries]
        # Each node goes with the batch that completed it (the batch of its last leaf).
        batches: list[list[tuple[Any, ...]]] = [[] for _ in range(0, len(entries), BATCH)]
        for node in nodes:
            batches[_last_leaf(int(node[0])) // BATCH].append(node)
        self.nodes = [node for batch in batches for node in batch]
        self.node_batches: list[tuple[int, int]] = []
        lo = 0
        for batch in batches:
            self.node_batches.append((lo, lo + len(batch)))
            lo += len(batch)


def _last_leaf(key: int) -> int:
    from habeas.ledger.models import NODE_LEVEL_SHIFT

    level, idx = key >> NODE_LEVEL_SHIFT, key & ((1 << NODE_LEVEL_SHIFT) - 1)
    return ((idx + 1) << level) - 1


def read_rows() -> LedgerRows:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "index", occurred_at, recorded_at, actor, action, subject, canonical, '
            'leaf_hash FROM ledger_ledgerentry ORDER BY "index"'
        )
        entries = [tuple(row) for row in cursor.fetchall()]
        cursor.execute('SELECT "key", hash FROM ledger_ledgernode ORDER BY "key"')
        nodes = [(key, bytes(value)) for key, value in cursor.fetchall()]
    return LedgerRows(entries, nodes)


# --- Habeas -------------------------------------------------------------------------------


def habeas_bulk(events: Sequence[Any]) -> None:
    from habeas.core.actor import Actor
    from habeas.core.services import service_context
    from habeas.ledger.services import ledger_append_many

    actor = Actor.system("bench")
    for start in range(0, len(events), BATCH):
        with service_context():
            ledger_append_many(actor=actor, events=events[start : start + BATCH])


def habeas_single(events: Sequence[Any]) -> None:
    from habeas.core.actor import Actor
    from habeas.core.services import service_context
    from habeas.ledger.services import ledger_append

    actor = Actor.system("bench")
    for event in events:
        with service_context():
            ledger_append(
                actor=actor,
                action=event.action,
                subject=event.subject,
                payload=event.payload,
                occurred_at=event.occurred_at,
            )


def check_ledger(expected: int) -> None:
    """The measured run left a complete, consistent ledger (outside the timing)."""
    from habeas.ledger import merkle
    from habeas.ledger.models import LedgerEntry
    from habeas.ledger.services import ledger_root, ledger_size

    size = ledger_size()
    if size != expected:
        raise SystemExit(f"ledger has {size} entries, expected {expected}")
    leaves = [
        bytes.fromhex(h)
        for h in LedgerEntry.objects.order_by("index").values_list("leaf_hash", flat=True)
    ]
    if merkle.root_from_leaves(leaves) != ledger_root():
        raise SystemExit("stored Merkle root differs from the root recomputed from the leaves")


# --- components of Habeas's work, no database ---------------------------------------------


def component_canonical(events: Sequence[Any], recorded_at: dt.datetime) -> None:
    from habeas.core.canonical import canonical_bytes
    from habeas.ledger import merkle
    from habeas.ledger.services import entry_document

    for index, event in enumerate(events):
        data = canonical_bytes(
            entry_document(
                index=index,
                occurred_at=event.occurred_at,
                recorded_at=recorded_at,
                actor=ACTOR_NAME,
                action=event.action,
                subject=event.subject,
                payload=event.payload,
            )
        )
        merkle.leaf_hash(data)


class _DictStore:
    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {k: self.nodes[k] for k in keys if k in self.nodes}


def component_merkle(leaves: Sequence[bytes]) -> None:
    from habeas.ledger import merkle

    store = _DictStore()
    for start in range(0, len(leaves), BATCH):
        batch = leaves[start : start + BATCH]
        store.nodes.update(merkle.compute_new_nodes(start, batch, store))
        store.nodes.update(((0, start + i), leaf) for i, leaf in enumerate(batch))


# --- baselines ----------------------------------------------------------------------------


def raw_chain(datas: Sequence[bytes]) -> bytes:
    sha = hashlib.sha256
    h = bytes(32)
    for data in datas:
        h = sha(h + data).digest()
    return h


def _ledger_ddl(db: common.RawDB) -> list[str]:
    pg = db.vendor == "postgresql"
    ts = "TIMESTAMPTZ" if pg else "DATETIME"
    big = "BIGINT" if pg else "INTEGER"
    blob = "BYTEA" if pg else "BLOB"
    return [
        f"CREATE TABLE raw_ledger (idx {big} NOT NULL PRIMARY KEY CHECK (idx >= 0), "
        f"occurred_at {ts} NOT NULL, recorded_at {ts} NOT NULL, actor VARCHAR(150) NOT NULL, "
        "action VARCHAR(64) NOT NULL, subject VARCHAR(128) NOT NULL, canonical TEXT NOT NULL, "
        "leaf_hash VARCHAR(64) NOT NULL)",
        "CREATE INDEX raw_ledger_action ON raw_ledger (action)",
        "CREATE INDEX raw_ledger_subject ON raw_ledger (subject)",
        f"CREATE TABLE raw_node (key {big} NOT NULL PRIMARY KEY, hash {blob} NOT NULL)",
    ]


INSERT_ENTRY = "INSERT INTO raw_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_NODE = "INSERT INTO raw_node VALUES (?, ?)"


def raw_executemany(
    db: common.RawDB,
    rows: Sequence[tuple[Any, ...]],
    nodes: Sequence[tuple[int, bytes]] | None,
    node_batches: Sequence[tuple[int, int]] | None,
) -> None:
    """Same batching as Habeas: one transaction per 1,000 entries (and their nodes)."""
    for number, start in enumerate(range(0, len(rows), BATCH)):
        with db.transaction():
            db.executemany(INSERT_ENTRY, rows[start : start + BATCH])
            if nodes is not None and node_batches is not None:
                lo, hi = node_batches[number]
                db.executemany(INSERT_NODE, nodes[lo:hi])


def raw_single(db: common.RawDB, rows: Sequence[tuple[Any, ...]]) -> None:
    sql = db.sql(INSERT_ENTRY)
    for row in rows:
        with db.transaction():
            db.conn.execute(sql, row)


# --- the benchmark ------------------------------------------------------------------------


def run(env: common.Env, runs: int, profile: bool = False) -> common.Report:
    report = common.Report(bench="ledger", engine=env.engine)
    common.log(f"ledger: preparing {TOTAL:,} events")
    events = make_events(TOTAL)
    single_events = events[:SINGLE]
    recorded_at = dt.datetime.now(dt.UTC)

    bulk = report.add("habeas_bulk", "Habeas ledger_append_many, 1,000/txn", TOTAL, "entries")
    single = report.add("habeas_single", "Habeas ledger_append, 1 txn each", SINGLE, "entries")
    chain = report.add("raw_chain", "baseline: pure-Python SHA-256 chain", TOTAL, "entries")
    many = report.add(
        "raw_many", f"baseline: raw {env.engine} executemany entries, 1,000/txn", TOTAL, "rows"
    )
    many_nodes = report.add(
        "raw_many_nodes",
        f"baseline: raw {env.engine} executemany entries + node rows",
        TOTAL,
        "entries",
    )
    one = report.add("raw_single", f"baseline: raw {env.engine} INSERT, 1 txn each", SINGLE, "rows")
    comp_json = report.add(
        "comp_canonical", "component: canonical JSON + leaf hash, no DB", COMPONENT, "entries"
    )
    comp_merkle = report.add(
        "comp_merkle", "component: Merkle interior nodes, no DB", TOTAL, "entries"
    )

    stored: LedgerRows | None = None
    for number in range(runs):
        common.log(f"ledger: run {number + 1}/{runs} ({env.engine})")
        env.fresh_database()
        common.timed(bulk, habeas_bulk, events)
        if stored is None:
            check_ledger(TOTAL)
            stored = read_rows()
            mean_payload = sum(len(payload_bytes(e)) for e in events[:1000]) / 1000
            mean_entry = sum(len(d) for d in stored.datas) / TOTAL
            report.notes.append(
                f"payload {mean_payload:.0f} bytes of canonical JSON on average, whole entry "
                f"document {mean_entry:.0f} bytes; Habeas stored "
                f"{len(stored.nodes) / TOTAL:.2f} Merkle node rows per entry beside the entry row "
                "(the baselines insert these very rows, read back from the first run)"
            )
        env.fresh_database()
        common.timed(single, habeas_single, single_events)
        if number == 0:
            check_ledger(SINGLE)
        common.timed(chain, raw_chain, stored.datas)
        db = env.raw_connection()
        try:
            tables = ["raw_node", "raw_ledger"]
            db.recreate(_ledger_ddl(db), tables)
            common.timed(many, raw_executemany, db, stored.entries, None, None)
            db.recreate(_ledger_ddl(db), tables)
            common.timed(
                many_nodes, raw_executemany, db, stored.entries, stored.nodes, stored.node_batches
            )
            db.recreate(_ledger_ddl(db), tables)
            common.timed(one, raw_single, db, stored.entries[:SINGLE])
            db.recreate([], tables)
        finally:
            db.close()
        common.timed(comp_json, component_canonical, events[:COMPONENT], recorded_at)
        common.timed(comp_merkle, component_merkle, stored.leaves)

    report.ratio("Habeas bulk / raw SHA-256 chain", "habeas_bulk", "raw_chain")
    report.ratio(f"Habeas bulk / raw {env.engine} executemany", "habeas_bulk", "raw_many")
    report.ratio(
        f"Habeas bulk / raw {env.engine} executemany entries + nodes",
        "habeas_bulk",
        "raw_many_nodes",
    )
    report.ratio(f"Habeas single / raw {env.engine} INSERT per txn", "habeas_single", "raw_single")
    rate = bulk.rate
    report.targets.append(
        common.Target(
            label=f"bulk append >= {TARGET_BULK:,} entries/s",
            met=rate >= TARGET_BULK,
            detail=f"median {rate:,.0f} entries/s = {rate / TARGET_BULK:.1%} of the target",
        )
    )

    if profile:

        def bulk_once() -> None:
            habeas_bulk(events)

        def single_once() -> None:
            habeas_single(single_events)

        env.fresh_database()
        common.profile(f"ledger bulk, {TOTAL:,} entries ({env.engine})", bulk_once, report=report)
        env.fresh_database()
        common.profile(
            f"ledger single, {SINGLE:,} entries ({env.engine})", single_once, report=report
        )
    return report


def payload_bytes(event: Any) -> bytes:
    from habeas.core.canonical import canonical_bytes

    return canonical_bytes(event.payload)


if __name__ == "__main__":
    sys.exit(common.main(run, __doc__ or "", DEFAULT_RUNS))
