"""Locust users of ``benchmarks/load_locator.py``: the public locator under load.

Run by ``load_locator.py`` (``locust -f benchmarks/locustfile_locator.py --headless …``);
``HABEAS_LOAD_QUERIES`` names the JSON file of searches it wrote (drawn from the registry
under test), ``HABEAS_LOAD_RATE`` the requests per second each user sends (a constant
throughput: an open-ish load, so the latency is measured at a given rate, not only at
saturation) and ``HABEAS_LOAD_MIX`` which endpoint to load: ``locator`` (the realistic mix
below) or one baseline path through the same server (``static``: a file served by
whitenoise; ``floor``: an unknown ``/api/`` path, which runs the whole middleware stack and
answers the API's error document).

The mix, by weight (each a locust entry of its own, so per-kind latencies show):

* ``api name``: names of a person held, as registered (accents kept), ``/api/v1/locator``;
* ``api name, no accents``: the same, folded to plain lowercase ASCII;
* ``api ref``: a sending-state reference + nationality;
* ``api name, absent``: names that match nobody held (real common names of people never
  held, and invented ones);
* ``page name`` / ``page name, no accents`` / ``page name, absent``: the same through the
  ``/locator/`` page (HTML).

Each user sends ``X-Forwarded-For`` with an address of its own: the server trusts
127.0.0.1 as its proxy (``HABEAS_TRUSTED_PROXIES``), as behind a reverse proxy, so the
per-address limit counts per user. A 429 or an answer that does not say what it should
(``in_custody`` for a held person; an absent name may meet a held namesake born the same
year, so any answer is right there) is a failure.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from locust import FastHttpUser, constant_throughput, task

QUERIES: dict[str, list[dict[str, str]]] = (
    json.loads(open(os.environ["HABEAS_LOAD_QUERIES"], encoding="utf-8").read())  # noqa: SIM115
    if os.environ.get("HABEAS_LOAD_QUERIES")
    else {}
)
RATE = float(os.environ.get("HABEAS_LOAD_RATE", "10"))
MIX = os.environ.get("HABEAS_LOAD_MIX", "locator")

#: (entry name, kind of query, path, what the answer must contain)
LOCATOR_MIX: list[tuple[str, int, str, str, str]] = [
    ("api name", 25, "held", "/api/v1/locator", '"in_custody"'),
    ("api name, no accents", 15, "held_folded", "/api/v1/locator", '"in_custody"'),
    ("api ref", 10, "ref", "/api/v1/locator", '"in_custody"'),
    ("api name, absent", 20, "absent", "/api/v1/locator", '"matches"'),
    ("page name", 15, "held", "/locator/", "Bench centre"),
    ("page name, no accents", 5, "held_folded", "/locator/", "Bench centre"),
    ("page name, absent", 10, "absent", "/locator/", "</form>"),
]
BASELINES = {"static": "/static/habeas/habeas.css", "floor": "/api/v1/no-such-endpoint"}


class LocatorUser(FastHttpUser):
    wait_time = constant_throughput(RATE)

    def on_start(self) -> None:
        n = random.randrange(1, 250 * 250)
        self.headers = {"X-Forwarded-For": f"10.{n // 62_500}.{n // 250 % 250}.{n % 250 + 1}"}
        self.entries = [e for e in LOCATOR_MIX if QUERIES.get(e[2])]
        self.weights = [e[1] for e in self.entries]

    @task
    def one(self) -> None:
        if MIX != "locator":
            self._baseline(BASELINES[MIX])
            return
        name, _w, kind, path, expected = random.choices(self.entries, self.weights)[0]
        params = random.choice(QUERIES[kind])
        with self.client.get(
            path, params=params, headers=self.headers, name=name, catch_response=True
        ) as response:
            _check(response, expected)

    def _baseline(self, path: str) -> None:
        status = 404 if path.startswith("/api/") else 200
        with self.client.get(path, headers=self.headers, name=MIX, catch_response=True) as response:
            if response.status_code == status:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")


def _check(response: Any, expected: str) -> None:
    if response.status_code != 200:
        response.failure(f"HTTP {response.status_code}")
    elif expected not in (response.text or ""):
        response.failure(f"answer without {expected!r}")
    else:
        response.success()
