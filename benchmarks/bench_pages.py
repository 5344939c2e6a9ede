"""Benchmark: the pages of issue 11 served from a loaded demo (targets: every page ≤ 300 ms,
the dashboard ≤ 150 ms, median of 15 after warm-up, on the full demo of 40,000 people).

The pages are requested in-process through Django's test client (the whole view, template
and middleware stack; no network, no gunicorn) from the home ``HABEAS_HOME`` points at,
which must hold a demo already loaded (``habeas demo --scale full --no-serve``; or the small
one, said so in the output). Each page is requested twice untimed (warm-up: template
compilation, the first query plans), then ``--runs`` times (default 15); the median and the
slowest are printed with the target and the median's ratio to it. The baseline measured in
the same run is the sign-in page (no database read beyond the session): the floor of any
page on this machine.

With ``--cold`` each page is also timed *cold*: before every timed request the registry's
version (:func:`habeas.ledger.freshness.registry_version`) is given a new suffix, as if a
service had just appended a ledger entry, so no cached document matches and the page computes
what it needs from the tables (and from the maintained aggregates). Nothing is written. Both
the warm and the cold medians are printed, wall time and CPU time.

Usage: ``HABEAS_HOME=/path python benchmarks/bench_pages.py [--runs N] [--only TEXT]
[--cold] [--json F]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

DEFAULT_RUNS = 15
WARMUP = 2
PAGE_MS = 300.0
DASHBOARD_MS = 150.0
STATISTICS_MS = 100.0
ALERTS_MS = 150.0


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")
    import django

    django.setup()


def _pages(person_id: int, released_id: int | None) -> list[tuple[str, str, str, float]]:
    """(label, username, path, target in ms)."""
    pages = [
        ("sign-in page (baseline)", "", "/login/", PAGE_MS),
        ("dashboard (director)", "director", "/", DASHBOARD_MS),
        ("dashboard (liaison, its own address)", "liaison", "/dashboard/", DASHBOARD_MS),
        ("people, first page", "director", "/people/", PAGE_MS),
        ("people, name search 'gutierrez'", "director", "/people/?q=gutierrez", PAGE_MS),
        ("people, held + nationality + sort by cell", "director",
         "/people/?status=held&nationality=SV&sort=cell", PAGE_MS),
        ("people, legal basis + page 20", "director",
         "/people/?basis=criminal_sentence&page=20", PAGE_MS),
        ("people, sorted by admission, descending", "director", "/people/?sort=-admitted",
         PAGE_MS),
        ("people, reference prefix", "director", "/people/?reference=SV", PAGE_MS),
        ("people (monitor, every facility)", "monitor", "/people/", PAGE_MS),
        ("person file", "director", f"/people/{person_id}/", PAGE_MS),
        ("keep-apart records", "director", "/housing/keep-apart/", PAGE_MS),
        ("manifests", "director", "/transfers/", PAGE_MS),
        ("manifest review, flight 1 (238 entries)", "director",
         "/transfers/manifests/US-SV-2025-F1/", PAGE_MS),
        ("manifest review, needs review + name", "director",
         "/transfers/manifests/US-SV-2025-F1/?decision=needs_review&q=a", PAGE_MS),
        ("home (liaison)", "liaison", "/", PAGE_MS),
        ("home (finance)", "finance", "/", PAGE_MS),
        ("home (oversight monitor)", "monitor", "/", PAGE_MS),
        ("home (auditor)", "auditor", "/", PAGE_MS),
        ("ledger verification (auditor)", "auditor", "/ledger/verification/", PAGE_MS),
        ("statistics (public, anonymous)", "", "/statistics/", STATISTICS_MS),
        ("statistics API (public)", "", "/api/v1/statistics", STATISTICS_MS),
        ("alerts (staff)", "director", "/alerts/", ALERTS_MS),
        ("alerts API (staff)", "director", "/api/v1/alerts", ALERTS_MS),
        ("oversight (monitor)", "monitor", "/oversight/", ALERTS_MS),
    ]  # fmt: skip
    if released_id is not None:
        pages.append(("person file (released)", "director", f"/people/{released_id}/", PAGE_MS))
    return pages


class _Cold:
    """Gives the registry's version a new suffix on :meth:`bump`: every cached document is
    then missed, as after a ledger append, without writing anything."""

    def __init__(self) -> None:
        from habeas.ledger import freshness
        from habeas.web import attention

        self.n = 0
        self.enabled = False
        original = freshness.registry_version

        def version(now: float | None = None) -> str:
            found = original(now)
            return f"{found}.cold{self.n}" if self.enabled else found

        freshness.registry_version = version  # type: ignore[assignment]
        attention.registry_version = version  # type: ignore[attr-defined]

    def bump(self) -> None:
        self.n += 1


def _time(client: Any, path: str, runs: int, cold: _Cold | None) -> tuple[list[float], list[float]]:
    times, cpu_times = [], []
    for _ in range(runs):
        if cold is not None:
            cold.bump()
        cpu = time.process_time()
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times, cpu_times


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    p.add_argument("--json", default="")
    p.add_argument(
        "--only", default="", help="only the pages whose label holds this text (a|b: either)"
    )
    p.add_argument("--cold", action="store_true", help="also time each page cold (see above)")
    args = p.parse_args()
    _setup()
    from django.test import Client

    from habeas.accounts.models import User
    from habeas.custody.models import CustodyEpisode
    from habeas.people.models import Person

    people = Person.objects.count()
    held = CustodyEpisode.objects.filter(released_at__isnull=True).order_by("pk").first()
    released = CustodyEpisode.objects.filter(released_at__isnull=False).order_by("pk").first()
    if held is None:
        print("no demo loaded in HABEAS_HOME: run `habeas demo --no-serve` first")
        return 2
    cold = _Cold() if args.cold else None
    clients: dict[str, Any] = {"": Client(HTTP_HOST="127.0.0.1")}
    rows = []
    print(f"people in the registry: {people:,}  (runs: {args.runs}, warm-up: {WARMUP})")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"{'page':48} {'median ms':>10} {'CPU ms':>7} {'max ms':>8} {'target':>7} {'ratio':>6}")
    for label, username, path, target in _pages(
        held.person_id, released.person_id if released else None
    ):
        wanted = [w for w in args.only.split("|") if w]
        if wanted and not any(w in label for w in wanted) and "baseline" not in label:
            continue
        client = clients.get(username)
        if client is None:
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(User.objects.get(username=username))
            clients[username] = client
        for _ in range(WARMUP):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        modes: list[tuple[str, _Cold | None]] = [("", None)]
        if cold is not None:
            modes.append((" (cold)", cold))
        for suffix, mode in modes:
            if cold is not None:
                cold.enabled = mode is not None
            times, cpu_times = _time(client, path, args.runs, mode)
            median = statistics.median(times)
            cpu_median = statistics.median(cpu_times)
            rows.append({"page": label + suffix, "path": path, "cold": mode is not None,
                         "median_ms": round(median, 1), "cpu_median_ms": round(cpu_median, 1),
                         "max_ms": round(max(times), 1), "target_ms": target})  # fmt: skip
            flag = "" if median <= target else "  OVER"
            print(f"{label + suffix:48} {median:10.1f} {cpu_median:7.1f} {max(times):8.1f} "
                  f"{target:7.0f} {median / target:6.2f}{flag}")  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"people": people, "runs": args.runs, "pages": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
