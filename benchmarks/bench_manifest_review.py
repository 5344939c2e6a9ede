"""Benchmark: the manifest review page with a manifest of 320 entries (issue 11, deliver 6:
≤ 300 ms, median of 15 after warm-up), against a registry of 40,000 people.

A fresh database (SQLite by default, ``--postgres``) gets the demo's setup, a registry of
``--registry`` people inserted raw (untimed; ``bench_intake.build_registry``) and a manifest
of ``--rows`` rows imported through ``manifest_import`` (15 % of the rows messy copies of
registry people, so some entries need review and have candidates). The pages are then
requested in-process through Django's test client (view, template and middleware; no
network), twice untimed, then ``--runs`` times: the first page, filters, a later page, a
name search and the comparison of a possible match, as the facility's director and as an
oversight monitor (who sees every candidate). The baseline measured in the same run is the
sign-in page (no database read beyond the session), the floor of any page here. Wall and
CPU time (``time.process_time``: on SQLite the database work is in this process) are printed
per page with the load average.

Usage: ``python benchmarks/bench_manifest_review.py [--rows N] [--registry N] [--runs N]
[--postgres]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import bench_intake

TARGET_MS = 300.0
WARMUP = 2


def _time(client: Any, path: str, runs: int) -> tuple[float, float, float]:
    for _ in range(WARMUP):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        response = client.get(path)
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
        assert response.status_code == 200
    return statistics.median(wall), max(wall), statistics.median(cpu)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=320)
    p.add_argument("--registry", type=int, default=40_000)
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--postgres", action="store_true")
    args = p.parse_args()
    env = common.Env(postgres=args.postgres).setup()
    try:
        env.fresh_database()
        return _run(env, args)
    finally:
        env.close()


def _run(env: common.Env, args: argparse.Namespace) -> int:
    import datetime as dt

    from django.test import Client

    from habeas.accounts.services import user_create
    from habeas.core.actor import Actor
    from habeas.transfers.models import ManifestEntry
    from habeas.transfers.services import manifest_import

    rng = random.Random(20261207)
    common.log(f"registry of {args.registry:,} people (raw insert, untimed)")
    sample = bench_intake.build_registry(args.registry, rng)
    agreement = bench_intake.setup_agreement()
    data = bench_intake.manifest_rows(rng, sample, args.rows)
    actor = Actor.system("bench")
    manifest = manifest_import(
        actor=actor, data=data, agreement=agreement, ref="REVIEW", decided_on=dt.date(2025, 3, 15)
    ).manifest
    assert manifest is not None
    entries = ManifestEntry.objects.filter(manifest=manifest)
    assert entries.count() == args.rows
    possible = entries.exclude(candidates=[]).order_by("row").first()
    codes = list(agreement.facilities.values_list("code", flat=True))
    admin = Actor(name="bench:setup", role="facility_admin")
    users = {
        "director": user_create(actor=admin, username="director", password="pw-director-long-x",
                                role="facility_admin", facility_codes=codes),
        "monitor": user_create(actor=admin, username="monitor", password="pw-monitor-long-xx",
                               role="oversight"),
    }  # fmt: skip
    base = "/transfers/manifests/REVIEW/"
    pages = [
        ("sign-in page (baseline)", "", "/login/"),
        ("review, first page", "director", base),
        ("review, needs review", "director", f"{base}?decision=needs_review"),
        ("review, page 4", "director", f"{base}?page=4"),
        ("review, name search 'maria'", "director", f"{base}?q=maria"),
        ("review, rule + nationality", "director", f"{base}?rule=U8&nationality=SV"),
        ("review, first page (monitor)", "monitor", base),
        ("accept all eligible: confirmation", "director", f"{base}accept-eligible/"),
    ]
    if possible is not None:
        pages.append(("compare a possible match", "monitor", f"{base}rows/{possible.row}/compare/"))
    counts = {
        d: entries.filter(decision=d).count() for d in ("eligible", "needs_review", "ineligible")
    }
    print(f"engine: {env.engine}  registry: {args.registry:,}  manifest rows: {args.rows}  "
          f"{counts}  runs: {args.runs}  load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")  # fmt: skip
    print(f"{'page':40} {'median ms':>10} {'max ms':>8} {'CPU ms':>7} {'target':>7} {'ratio':>6}")
    clients: dict[str, Client] = {}
    floor = None
    for label, user, path in pages:
        client = clients.get(user)
        if client is None:
            client = Client(HTTP_HOST="127.0.0.1")
            if user:
                client.force_login(users[user])
            clients[user] = client
        median, worst, cpu = _time(client, path, args.runs)
        floor = floor or median
        flag = "" if median <= TARGET_MS else "  OVER"
        print(f"{label:40} {median:10.1f} {worst:8.1f} {cpu:7.1f} {TARGET_MS:7.0f} "
              f"{median / TARGET_MS:6.2f}{flag}  ({median / floor:.1f}x the sign-in page)")  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
