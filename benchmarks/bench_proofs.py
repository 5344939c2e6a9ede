"""Ledger proofs and verification against their targets (accountability issue), with pymerkle
as the reference library on the same data in the same run.

1. Inclusion and consistency proofs from the *stored* tree (``habeas.ledger.proofs``, the code
   behind ``habeas ledger proof`` and ``/api/v1/ledger/proofs/…``) at ``--size`` leaves
   (default 10,000,000): p50/p95 over ``--samples`` random requests. Target: p95 ≤ 1 ms.
   The big ledger is laid down directly (leaf rows + the tree nodes ``merkle.compute_new_nodes``
   computes), since appending 10M real events would take most of an hour here.
2. Full verification (``verify_ledger(tables=False)``: every leaf hash recomputed from the
   stored bytes, the root recomputed and compared with the stored tree) against the raw
   SHA-256 chain over the same bytes read the same way. Target: ≥ 60 % of the chain's rate.
3. Append and proof throughput beside pymerkle's SqliteTree (RFC 9162-style tree in SQLite)
   on ``--compare`` entries.

    python benchmarks/bench_proofs.py [--size N] [--samples K] [--compare M]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--compare", type=int, default=20_000)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="habeas-bench-proofs-"))
    os.environ["HABEAS_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from habeas.core.actor import Actor
    from habeas.core.services import service_context
    from habeas.ledger import merkle
    from habeas.ledger.models import LedgerHead, node_key
    from habeas.ledger.proofs import consistency_proof, inclusion_proof
    from habeas.ledger.services import Event, _insert_sql, ledger_append_many
    from habeas.ledger.verify import verify_ledger

    call_command("migrate", verbosity=0)
    rng = random.Random(9162)
    n = args.size
    print(f"laying down a ledger of {n:,} leaves in SQLite …", flush=True)
    t0 = time.perf_counter()
    store: dict[tuple[int, int], bytes] = {}

    class Store:
        def get_nodes(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
            return {k: store[k] for k in keys}

    chunk = 50_000
    entry_sql = _insert_sql(connection, "entry")
    node_sql = _insert_sql(connection, "node")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        texts = [f'{{"index":{i},"payload":{{}}}}' for i in range(start, stop)]
        leaves = [hashlib.sha256(b"\x00" + t.encode()).digest() for t in texts]
        for i, leaf in enumerate(leaves):
            store[(0, start + i)] = leaf
        new = merkle.compute_new_nodes(start, leaves, Store())
        store.update(new)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                entry_sql,
                [
                    (
                        start + i,
                        "2025-01-01 00:00:00",
                        "2025-01-01 00:00:00",
                        "bench",
                        "b.x",
                        "s",
                        t,
                        leaf.hex(),
                    )
                    for i, (t, leaf) in enumerate(zip(texts, leaves, strict=True))
                ],
            )
            cursor.executemany(node_sql, [(node_key(lv, ix), h) for (lv, ix), h in new.items()])
        if (stop // chunk) % 20 == 0:
            print(f"  {stop:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    # level 0 lives in the entries; drop it from the in-memory copy
    LedgerHead.objects.filter(pk=1).update(size=n)
    print(f"laid down in {time.perf_counter() - t0:.0f} s", flush=True)

    incl, cons = [], []
    for _ in range(args.samples):
        i = rng.randrange(n)
        t = time.perf_counter()
        doc = inclusion_proof(i, n)
        incl.append((time.perf_counter() - t) * 1000)
        merkle.verify_inclusion(
            i,
            n,
            bytes.fromhex(doc["leaf_hash"]),
            [bytes.fromhex(p) for p in doc["proof"]],
            bytes.fromhex(doc["root"]),
        )
        m = rng.randrange(1, n)
        t = time.perf_counter()
        cdoc = consistency_proof(m, n)
        cons.append((time.perf_counter() - t) * 1000)
        merkle.verify_consistency(
            m,
            n,
            bytes.fromhex(cdoc["old_root"]),
            bytes.fromhex(cdoc["root"]),
            [bytes.fromhex(p) for p in cdoc["proof"]],
        )
    print(f"\nproofs from the stored tree at {n:,} leaves (SQLite, {args.samples} each, verified)")
    print(
        f"  inclusion   p50 {statistics.median(incl):.3f} ms  p95 {pct(incl, 0.95):.3f} ms  (target p95 ≤ 1 ms)"
    )
    print(
        f"  consistency p50 {statistics.median(cons):.3f} ms  p95 {pct(cons, 0.95):.3f} ms  (target p95 ≤ 1 ms)"
    )

    t = time.perf_counter()
    result = verify_ledger(tables=False)
    verify_s = time.perf_counter() - t
    assert result.ok, result.problems[:3]
    t = time.perf_counter()
    h = b""
    with connection.cursor() as cursor:
        last = -1
        while True:
            cursor.execute(
                'SELECT "index", canonical FROM ledger_ledgerentry WHERE "index" > %s '
                'ORDER BY "index" LIMIT 5000',
                [last],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            for _, text in rows:
                h = hashlib.sha256(h + text.encode()).digest()
            last = rows[-1][0]
    chain_read_s = time.perf_counter() - t
    texts_mem = [f'{{"index":{i},"payload":{{}}}}'.encode() for i in range(min(n, 2_000_000))]
    t = time.perf_counter()
    h = b""
    for data in texts_mem:
        h = hashlib.sha256(h + data).digest()
    chain_mem_rate = len(texts_mem) / (time.perf_counter() - t)
    print(f"\nfull verification of {n:,} entries: {n / verify_s:,.0f} entries/s ({verify_s:.1f} s)")
    print(
        f"  raw SHA-256 chain, rows read the same way: {n / chain_read_s:,.0f}/s → ratio {chain_read_s / verify_s:.2f} (target ≥ 0.60)"
    )
    print(
        f"  raw SHA-256 chain over bytes in memory:   {chain_mem_rate:,.0f}/s → ratio {(n / verify_s) / chain_mem_rate:.2f}"
    )

    # pymerkle side by side on the same canonical bytes
    try:
        from pymerkle import SqliteTree
    except ImportError:
        print("\npymerkle not installed (bench extra): comparison skipped")
        return 0
    m = args.compare
    payload = {"episode": {"id": 1, "facility": "TEC", "agreement": None}, "cell": "TEC/M1-01"}
    events = [Event("bench.appended", f"s:{i}", payload) for i in range(m)]
    t = time.perf_counter()
    for s in range(0, m, 1000):
        with service_context():
            ledger_append_many(actor=Actor("bench"), events=events[s : s + 1000])
    habeas_append = m / (time.perf_counter() - t)
    data = [f"entry {i} {payload}".encode() for i in range(m)]
    tree = SqliteTree(str(home / "pymerkle.db"), algorithm="sha256")
    t = time.perf_counter()
    tree.append_entries(data, chunksize=1000)
    pym_append = m / (time.perf_counter() - t)
    size = tree.get_size()
    pp = []
    for _ in range(200):
        i = rng.randrange(1, size + 1)
        t = time.perf_counter()
        tree.prove_inclusion(i, size)
        pp.append((time.perf_counter() - t) * 1000)
    print(f"\nside by side with pymerkle SqliteTree ({m:,} entries)")
    print(
        f"  append: Habeas {habeas_append:,.0f}/s (events, canonical JSON, ledger rows, nodes) vs pymerkle {pym_append:,.0f}/s (leaves) → ratio {habeas_append / pym_append:.2f}"
    )
    print(
        f"  inclusion proof p95: Habeas at {n:,} leaves {pct(incl, 0.95):.3f} ms vs pymerkle at {size:,} leaves {pct(pp, 0.95):.3f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
