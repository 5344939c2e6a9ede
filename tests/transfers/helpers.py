"""Building manifests for the intake tests (MANIFEST.md v1)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

BASE: dict[str, str] = {
    "sending_ref": "A100",
    "given_names": "José Alberto",
    "first_surname": "Hernández",
    "second_surname": "Ramírez",
    "date_of_birth": "1990-05-17",
    "sex": "M",
    "nationalities": "VE",
    "status_in_sending_state": "other",
    "legal_basis": "criminal_sentence",
    "offence": "robbery",
    "conviction_date": "2024-01-10",
    "judgment_final": "yes",
    "sentence": "P5Y",
    "sentence_start": "2024-01-10",
    "consent": "unknown",
}

ON = "2025-03-20"


def row(**changes: Any) -> dict[str, str]:
    data = dict(BASE)
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = str(v)
    return data


def removal_row(**changes: Any) -> dict[str, str]:
    base = row(
        legal_basis="removal_order",
        removal_order_ref="RO-1",
        removal_order_date="2025-02-01",
        offence=None,
        conviction_date=None,
        judgment_final=None,
        sentence=None,
        sentence_start=None,
    )
    base.update({k: str(v) for k, v in changes.items() if v is not None})
    for k, v in changes.items():
        if v is None:
            base.pop(k, None)
    return base


def to_csv(
    rows: list[dict[str, str]], *, bom: bool = False, columns: list[str] | None = None
) -> bytes:
    cols = columns or sorted({k for r in rows for k in r})
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=cols, lineterminator="\r\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: r.get(c, "") for c in cols})
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def to_json(rows: list[dict[str, str]], *, wrapped: bool = False) -> bytes:
    doc: Any = {"entries": rows} if wrapped else rows
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")
