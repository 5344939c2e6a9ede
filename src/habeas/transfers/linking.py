"""Person lists for ``habeas link`` (INTERFACES.md): the person columns of MANIFEST.md, rows
identified by ``sending_ref``. Other columns are ignored; a value that cannot be read (a date
that does not exist, an unknown country) is left out of the comparison, never fatal."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from pathlib import Path

from habeas.core.errors import ValidationFailed
from habeas.people.matching import PersonRecord
from habeas.transfers.manifest import country_code, parse_partial_date

NEEDED = ("sending_ref", "given_names", "first_surname")


def read_person_list(path: Path) -> list[PersonRecord]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"{path}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"{path}: missing column(s) {', '.join(missing)}")
    return list(_records(reader))


def _records(reader: csv.DictReader[str]) -> Iterator[PersonRecord]:
    for row in reader:
        ref = (row.get("sending_ref") or "").strip()
        if not ref:
            continue
        dob, precision = None, "day"
        if (row.get("date_of_birth") or "").strip():
            with contextlib.suppress(ValueError):
                dob, precision = parse_partial_date(row["date_of_birth"])
        nats = []
        for c in (row.get("nationalities") or "").split(";"):
            try:
                nats.append(country_code(c))
            except ValueError:
                continue
        yield PersonRecord(
            ref=ref,
            given_names=row.get("given_names") or "",
            first_surname=row.get("first_surname") or "",
            second_surname=row.get("second_surname") or "",
            aliases=[a for a in (row.get("aliases") or "").split(";") if a.strip()],
            date_of_birth=dob,
            dob_precision=precision,
            sex=(row.get("sex") or "").strip().upper(),
            nationalities=nats,
        )
