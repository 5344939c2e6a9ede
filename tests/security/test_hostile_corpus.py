"""The hostile-input corpus (``hostile_corpus.json``): every case gets its 4xx (API, web) or
exit 2 (CLI) within a second, and nothing is stored (security review, items 2 and 4;
INTERFACES.md: exit codes and the API's one error document; MANIFEST.md: bad input)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.transfers.helpers import row, to_csv

CORPUS = json.loads((Path(__file__).with_name("hostile_corpus.json")).read_text())["cases"]

#: Budget of one case (the request or the command, not the set-up), in CPU time of the test
#: process: the machines that run the suite are shared, and their load must not fail it.
BUDGET_S = 1.0
#: And in wall-clock time, generously: nothing may wait on the database either.
WALL_S = 5.0


def expand(value: Any) -> Any:
    """The corpus' small templating: ``{"$repeat": [text, n]}``, ``{"$concat": [...]}`` and
    ``{"$split": [text, n]}`` (a list of ``n`` copies, ``;`` stripped)."""
    if isinstance(value, dict):
        if "$repeat" in value:
            text, n = value["$repeat"]
            return str(text) * int(n)
        if "$concat" in value:
            return "".join(expand(v) for v in value["$concat"])
        if "$split" in value:
            text, n = value["$split"]
            return [str(text).rstrip(";")] * int(n)
        return {k: expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    return value


def manifest_bytes(case: dict[str, Any]) -> tuple[bytes, str]:
    if "raw" in case:
        return expand(case["raw"]).encode("utf-8", "surrogatepass"), "hostile.json"
    rows = [
        row(**{k: v for k, v in expand(r).items() if not isinstance(v, list)}) for r in case["rows"]
    ]
    lists = [{k: v for k, v in expand(r).items() if isinstance(v, list)} for r in case["rows"]]
    if case.get("format") == "csv":
        return to_csv(rows), "hostile.csv"
    docs = [{**r, **extra} for r, extra in zip(rows, lists, strict=True)]
    text = json.dumps(docs, ensure_ascii=True)
    return text.encode("utf-8"), "hostile.json"


def stored() -> tuple[int, int, int]:
    from habeas.ledger.services import ledger_size
    from habeas.people.models import Person
    from habeas.transfers.models import Manifest

    return ledger_size(), Manifest.objects.count(), Person.objects.count()


def _statuses(expect: dict[str, Any]) -> list[int]:
    status = expect["status"]
    return status if isinstance(status, list) else [status]


def run_api(case: dict[str, Any], client: Client, ids: dict[str, int]) -> Any:
    method = case.get("method", "GET").lower()
    path = expand(case["path"])
    if "{" in path:  # a person of the scene: {us}
        path = path.format(**ids)
    extra: dict[str, Any] = {}
    if "content_length" in case:
        extra["CONTENT_LENGTH"] = case["content_length"]
    if method == "get":
        return client.get(path, expand(case.get("query", {})))
    if "raw" in case:
        body = expand(case["raw"]).encode("utf-8", "surrogatepass")
    else:
        body = json.dumps(expand(case.get("json", {}))).encode()
    return client.generic(method.upper(), path, body, content_type="application/json", **extra)


def run_manifest_api(case: dict[str, Any], client: Client) -> Any:
    data, name = manifest_bytes(case)
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/api/v1/manifests/",
        {
            "file": SimpleUploadedFile(name, data),
            "agreement": "US-SV",
            "dry_run": "true",
            "on": "2025-03-20",
        },
    )


def run_cli_main(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """The real entry point (``habeas.__main__.main``: argument parsing, exit 2 for refusals
    and 3 for internal errors), with the connection kept open for the test's transaction."""
    import contextlib
    import io

    from django.db import connections

    from habeas.__main__ import main

    monkeypatch.setattr(connections, "close_all", lambda: None)
    err = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return code, err.getvalue()


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_hostile_input_is_refused_quickly_and_stores_nothing(
    case: dict[str, Any],
    scene: dict[str, Any],
    users: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = Client()
    user = case.get("user", "staff")
    if user != "anonymous":
        client.force_login(users[user])
    # warm-up: the first request of a process imports a lot, the first page loads templates
    client.get("/api/v1/ledger/size")
    client.get("/people/0/")
    before = stored()
    expect = case["expect"]
    wall = time.perf_counter()
    started = time.process_time()
    if case["via"] == "cli":
        code, err = run_cli_main(expand(case["args"]), monkeypatch)
        elapsed = time.process_time() - started
        assert code == expect["exit"], err
        assert "internal error" not in err
    else:
        if case["via"] == "manifest":
            response = run_manifest_api(case, client)
        else:
            response = run_api(case, client, {k: p.pk for k, p in scene["people"].items()})
        elapsed = time.process_time() - started
        assert response.status_code in _statuses(expect), response.content[:500]
        if case["via"] != "web":
            body = response.json()  # the API's one error document, never HTML
            if response.status_code >= 400:
                assert set(body) == {"code", "message", "details"}
                assert body["message"]
            elif "rule" in expect:
                (entry,) = body["entries"]
                assert entry["decision"] == "ineligible"
                failed = {r["rule"] for r in entry["rules"] if r["outcome"] == "fail"}
                assert expect["rule"] in failed, entry["rules"]
    assert elapsed < BUDGET_S, f"{case['id']} took {elapsed:.2f} s of CPU"
    assert time.perf_counter() - wall < WALL_S
    assert stored() == before


@pytest.mark.parametrize(
    "case", [c for c in CORPUS if c["via"] == "manifest"], ids=lambda c: c["id"]
)
def test_hostile_manifest_on_the_command_line(
    case: dict[str, Any], world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same files through ``habeas import-manifest --dry-run``: exit 2 for a refused
    file, 0 with the row decided ineligible for an invalid value; never 3."""
    data, name = manifest_bytes(case)
    path = tmp_path / name
    path.write_bytes(data)
    report = tmp_path / "report.json"
    before = stored()
    wall = time.perf_counter()
    started = time.process_time()
    code, err = run_cli_main(
        [
            "import-manifest",
            str(path),
            "--agreement",
            "US-SV",
            "--dry-run",
            "--report",
            str(report),
        ],
        monkeypatch,
    )
    elapsed = time.process_time() - started
    if case["expect"]["status"] == 400:
        assert code == 2, err
    else:
        assert code == 0, err
        (entry,) = json.loads(report.read_text())["entries"]
        assert entry["decision"] == "ineligible"
    assert elapsed < BUDGET_S
    assert time.perf_counter() - wall < WALL_S
    assert stored() == before
