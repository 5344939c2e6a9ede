"""Benchmark 1: appending to the ledger inside transactions (docs/benchmarks.md).

Habeas, through its services API, on a fresh database each run:

* bulk: ``ledger_append_many`` with batches of 1,000 ``custody.admitted``-like events (payload
  about 320 bytes of canonical JSON), one ``@service`` transaction per batch, 100,000
  entries in all;
* single: ``ledger_append`` in its own ``@service`` transaction, 2,000 times.

Both without the other apps' ``on_appended`` listeners of ``custody.admitted`` (the standing
conditions, the statistics' tally, the locator index: see :func:`listeners`); the bulk append
is measured once more with them, shown beside the target but not compared with the floor.

Baselines, measured in the same process on the rows the first bulk run stored (read back from
the database, so they follow whatever Habeas stores):

* a SHA-256 hash chain in pure Python over the same canonical bytes, ``h = sha256(h + data)``;
* the floor: plain ``executemany`` (sqlite3, or psycopg with ``--postgres``) of the same entry
  rows (the values Habeas binds: times as the stored text on SQLite) into a table made from
  Habeas's own DDL (same columns, key, checks and indexes),
  1,000 rows per transaction; and the same plus the Merkle node rows Habeas stored for each
  batch; and the entry rows into the table as it was before migration 0005 (``bigint`` key,
  indexes on action and subject), to show what the schema change saved;
* one plain ``INSERT`` per transaction, for the single appends.

Full verification (``verify_ledger(tables=False)``) of the ledger each bulk run wrote, against a
SHA-256 chain over the same rows read with the verifier's own page query (target: 0.6).

Two components of Habeas's own work without any database (canonical JSON + leaf hash; the
Merkle interior nodes, grown from the right border as the append does) show how much of the
time is Python, not SQL.

Target (accountability issue): at least 100,000 entries/s in bulk; the report gives the
median as a share of the target and of the floor measured in the same run.

Usage: ``python benchmarks/bench_ledger.py [--postgres] [--runs N] [--profile] [--json F]``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import _common as common

TOTAL = 100_000
BATCH = 1_000
SINGLE = 2_000
COMPONENT = 20_000  # the no-database components are timed on a slice (they are steady)
TARGET_BULK = 100_000  # entries/s
TARGET_FLOOR_RATIO = 0.8  # bulk append / raw executemany of the same rows (issue 15)
TARGET_VERIFY_RATIO = 0.6  # full verification / raw SHA-256 chain over the same rows
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

    # The times exactly as stored and as Habeas binds them: text on SQLite (Django's cursor
    # would turn them into datetimes, which sqlite3 turns back into text with a Python
    # adapter call per value, a cost the append does not pay), datetimes on PostgreSQL.
    times = (
        "occurred_at, recorded_at"
        if connection.vendor == "postgresql"
        else "CAST(occurred_at AS TEXT), CAST(recorded_at AS TEXT)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "index", {times}, actor, action, subject, canonical, '
            'leaf_hash FROM ledger_ledgerentry ORDER BY "index"'
        )
        entries = [tuple(row) for row in cursor.fetchall()]
        cursor.execute('SELECT "key", hash FROM ledger_ledgernode ORDER BY "key"')
        nodes = [(key, bytes(value)) for key, value in cursor.fetchall()]
    return LedgerRows(entries, nodes)


# --- Habeas -------------------------------------------------------------------------------


@contextlib.contextmanager
def listeners(enabled: bool) -> Iterator[None]:
    """With ``enabled`` false, the other apps' ``on_appended`` listeners are set aside for the
    block: ``custody.admitted`` now has several (standing conditions, the statistics' tally,
    the locator index), which look up the people the events name (none exist here) in the
    appending transaction. That is their apps' work, measured by the admissions benchmark on
    real people; the ledger's own append is measured without it (and once with it, shown)."""
    from habeas.core import events as registry

    if enabled:
        yield
        return
    saved = registry.REGISTRY.listeners
    registry.REGISTRY.listeners = {}
    try:
        yield
    finally:
        registry.REGISTRY.listeners = saved


def habeas_bulk(events: Sequence[Any], with_listeners: bool = False) -> None:
    with listeners(with_listeners):
        _habeas_bulk(events)


def _habeas_bulk(events: Sequence[Any]) -> None:
    from habeas.core.actor import Actor
    from habeas.core.services import service
    from habeas.ledger.services import ledger_append_many

    actor = Actor.system("bench")
    for start in range(0, len(events), BATCH):
        service(ledger_append_many)(actor=actor, events=events[start : start + BATCH])


def habeas_single(events: Sequence[Any]) -> None:
    with listeners(False):
        _habeas_single(events)


def _habeas_single(events: Sequence[Any]) -> None:
    from habeas.core.actor import Actor
    from habeas.core.services import service
    from habeas.ledger.services import ledger_append

    actor = Actor.system("bench")
    for event in events:
        service(ledger_append)(
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


def component_merkle(leaves: Sequence[bytes]) -> None:
    """What the append does for the tree: grow it from the right border, batch by batch."""
    from habeas.ledger import merkle

    border: list[bytes] = []
    for start in range(0, len(leaves), BATCH):
        border = merkle.grow(start, border, leaves[start : start + BATCH]).border


def habeas_verify(expected: int) -> None:
    """``verify_ledger(tables=False)``: every leaf hash, index and the root recomputed (the
    table comparison is left out: the benchmark's entries describe no rows)."""
    from habeas.ledger.verify import verify_ledger

    result = verify_ledger(tables=False)
    if not result.ok or result.entries != expected:
        raise SystemExit(f"verification failed: {result.problems[:3]}")


# --- baselines ----------------------------------------------------------------------------


def raw_chain_read() -> bytes:
    """The floor of a verification: the same rows read with the verifier's own page query and
    page size (index and canonical bytes, not the stored leaf hash), hashed as a chain."""
    from habeas.ledger.verify import entry_pages, entry_sql

    sha = hashlib.sha256
    h = b""
    for rows in entry_pages(entry_sql(leaf=False)):
        for _, data in rows:
            h = sha(h + data).digest()
    return h


def raw_chain(datas: Sequence[bytes]) -> bytes:
    sha = hashlib.sha256
    h = bytes(32)
    for data in datas:
        h = sha(h + data).digest()
    return h


def habeas_ddl(db: common.RawDB) -> list[str]:
    """Tables exactly like Habeas's ledger entries and nodes (columns, key, checks, indexes;
    not the append-only triggers, which fire on UPDATE and DELETE only), named raw_*."""
    if db.vendor == "postgresql":
        return [
            'CREATE TABLE raw_ledger (LIKE "ledger_ledgerentry" INCLUDING ALL)',
            'CREATE TABLE raw_node (LIKE "ledger_ledgernode" INCLUDING ALL)',
        ]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND tbl_name IN "
            "('ledger_ledgerentry', 'ledger_ledgernode') AND sql IS NOT NULL ORDER BY type DESC"
        )
        ddl = [sql for (sql,) in cursor.fetchall()]
    renamed = []
    for sql in ddl:
        sql = sql.replace('"ledger_ledgerentry"', "raw_ledger").replace(
            '"ledger_ledgernode"', "raw_node"
        )
        renamed.append(sql.replace('INDEX "', 'INDEX "raw_'))
    return renamed


def schema_before_ddl(db: common.RawDB) -> list[str]:
    """The entry table as it was before the performance work (migration 0005): a ``bigint``
    primary key (on SQLite a separate unique index beside the rowid table) and indexes on
    both ``action`` and ``subject``."""
    pg = db.vendor == "postgresql"
    ts = "TIMESTAMPTZ" if pg else "DATETIME"
    blob = "BYTEA" if pg else "BLOB"
    return [
        f'CREATE TABLE raw_ledger ("index" BIGINT NOT NULL PRIMARY KEY CHECK ("index" >= 0), '
        f"occurred_at {ts} NOT NULL, recorded_at {ts} NOT NULL, actor VARCHAR(150) NOT NULL, "
        "action VARCHAR(64) NOT NULL, subject VARCHAR(128) NOT NULL, canonical TEXT NOT NULL, "
        "leaf_hash VARCHAR(64) NOT NULL)",
        "CREATE INDEX raw_ledger_action ON raw_ledger (action)",
        "CREATE INDEX raw_ledger_subject ON raw_ledger (subject)",
        *(
            [
                "CREATE INDEX raw_ledger_action_like ON raw_ledger (action varchar_pattern_ops)",
                "CREATE INDEX raw_ledger_subject_like ON raw_ledger (subject varchar_pattern_ops)",
            ]
            if pg
            else []
        ),
        f'CREATE TABLE raw_node ("key" BIGINT NOT NULL PRIMARY KEY, hash {blob} NOT NULL)',
    ]


INSERT_ENTRY = (
    'INSERT INTO raw_ledger ("index", occurred_at, recorded_at, actor, action, subject, '
    "canonical, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_NODE = 'INSERT INTO raw_node ("key", hash) VALUES (?, ?)'


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
    bulk_listening = report.add(
        "habeas_bulk_listeners",
        "the same with the custody.admitted listeners (other apps' work; not the target)",
        TOTAL,
        "entries",
    )
    single = report.add("habeas_single", "Habeas ledger_append, 1 txn each", SINGLE, "entries")
    chain = report.add("raw_chain", "baseline: pure-Python SHA-256 chain", TOTAL, "entries")
    many = report.add(
        "raw_many",
        f"floor: raw {env.engine} executemany of the entry rows, same table, 1,000/txn",
        TOTAL,
        "rows",
    )
    many_nodes = report.add(
        "raw_many_nodes",
        f"floor: raw {env.engine} executemany of the entry + node rows, same tables",
        TOTAL,
        "entries",
    )
    many_before = report.add(
        "raw_many_before",
        f"raw {env.engine} executemany of the entry rows, schema before 0005",
        TOTAL,
        "rows",
    )
    one = report.add("raw_single", f"baseline: raw {env.engine} INSERT, 1 txn each", SINGLE, "rows")
    comp_json = report.add(
        "comp_canonical", "component: canonical JSON + leaf hash, no DB", COMPONENT, "entries"
    )
    comp_merkle = report.add(
        "comp_merkle", "component: Merkle interior nodes, no DB", TOTAL, "entries"
    )
    verify = report.add(
        "habeas_verify", "Habeas verify_ledger(tables=False), full pass", TOTAL, "entries"
    )
    chain_read = report.add(
        "raw_chain_read",
        "baseline: SHA-256 chain over the same rows, read with the verifier's pages",
        TOTAL,
        "entries",
    )

    stored: LedgerRows | None = None
    for number in range(runs):
        common.log(f"ledger: run {number + 1}/{runs} ({env.engine})")
        env.fresh_database()
        common.timed(bulk, habeas_bulk, events)
        # Full verification and its floor on the ledger just written, alternating.
        common.timed(verify, habeas_verify, TOTAL)
        common.timed(chain_read, raw_chain_read)
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
        common.timed(bulk_listening, habeas_bulk, events, True)
        env.fresh_database()
        common.timed(single, habeas_single, single_events)
        if number == 0:
            check_ledger(SINGLE)
        common.timed(chain, raw_chain, stored.datas)
        db = env.raw_connection()
        try:
            tables = ["raw_node", "raw_ledger"]
            ddl = habeas_ddl(db)
            db.recreate(ddl, tables)
            common.timed(many, raw_executemany, db, stored.entries, None, None)
            db.recreate(ddl, tables)
            common.timed(
                many_nodes, raw_executemany, db, stored.entries, stored.nodes, stored.node_batches
            )
            db.recreate(schema_before_ddl(db), tables)
            common.timed(many_before, raw_executemany, db, stored.entries, None, None)
            db.recreate(ddl, tables)
            common.timed(one, raw_single, db, stored.entries[:SINGLE])
            db.recreate([], tables)
        finally:
            db.close()
        common.timed(comp_json, component_canonical, events[:COMPONENT], recorded_at)
        common.timed(comp_merkle, component_merkle, stored.leaves)

    report.ratio("Habeas bulk / raw SHA-256 chain", "habeas_bulk", "raw_chain")
    report.ratio(
        f"Habeas bulk / floor (raw {env.engine} executemany of the entry rows)",
        "habeas_bulk",
        "raw_many",
    )
    report.ratio(
        f"Habeas bulk / floor (raw {env.engine} executemany of entries + nodes)",
        "habeas_bulk",
        "raw_many_nodes",
    )
    report.ratio(
        "floor, this schema / entry rows with the schema before 0005",
        "raw_many",
        "raw_many_before",
    )
    report.ratio(f"Habeas single / raw {env.engine} INSERT per txn", "habeas_single", "raw_single")
    report.ratio(
        "Habeas full verification / raw SHA-256 chain over the same rows",
        "habeas_verify",
        "raw_chain_read",
    )
    append_ratio = bulk.rate / many.rate
    report.targets.append(
        common.Target(
            label=f"bulk append >= {TARGET_FLOOR_RATIO} of raw executemany of the same rows",
            met=append_ratio >= TARGET_FLOOR_RATIO,
            detail=f"{append_ratio:.3f} (wall, medians); by CPU time "
            f"{many.cpu_median / bulk.cpu_median:.3f}",
        )
    )
    verify_ratio = verify.rate / chain_read.rate
    report.targets.append(
        common.Target(
            label=f"full verification >= {TARGET_VERIFY_RATIO} of a raw SHA-256 chain",
            met=verify_ratio >= TARGET_VERIFY_RATIO,
            detail=f"{verify_ratio:.3f} (wall, medians); by CPU time "
            f"{chain_read.cpu_median / verify.cpu_median:.3f}",
        )
    )
    rate = bulk.rate
    floor = many.rate
    report.targets.append(
        common.Target(
            label=f"bulk append >= {TARGET_BULK:,} entries/s",
            met=rate >= TARGET_BULK,
            detail=f"median {rate:,.0f} entries/s = {rate / TARGET_BULK:.1%} of the target; "
            f"the floor (raw executemany of the same entry rows) is {floor:,.0f}/s = "
            f"{floor / TARGET_BULK:.1%} of it (CPU: Habeas {TOTAL / bulk.cpu_median:,.0f}/s, "
            f"floor {TOTAL / many.cpu_median:,.0f}/s)",
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
