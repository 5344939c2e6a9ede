"""The public ledger as a JSON Lines file for an independent witness (docs/ledger.md).

Since format 2 the ledger holds public facts in clear and personal fields only as keyed
commitments (ARCHITECTURE.md, "Personal data and the ledger"), so an oversight body may keep a
whole copy of it. The export is:

* a first line, the header: the export and ledger format versions, the origin, the first
  index exported (``from``), the tree size and root (RFC 9162 §2.1.1 Merkle Tree Hash) of a
  freshly signed checkpoint (:func:`habeas.ledger.proofs.checkpoint_issue`), the public key
  that signed it, and — when ``from`` is above 0 — the right border of the tree of the first
  ``from`` entries with the consistency proof from that size to the new one (RFC 9162
  §2.1.4), so a witness holding the first ``from`` entries can extend its copy;
* one line per entry ``from`` … ``size - 1``: ``index``, ``canonical`` (the entry's canonical
  JSON as a string; its UTF-8 encoding is the exact bytes hashed) and ``leaf_hash`` (hex
  SHA-256(0x00 ‖ canonical), RFC 9162 §2.1.1).

The entries are streamed in keyset pages with a raw cursor (constant memory); the size is
fixed by the checkpoint, so entries appended while the export runs are left for the next one.
:mod:`habeas.ledger.witness` checks such a file without a database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from habeas.core.errors import ValidationFailed
from habeas.ledger.verify import entry_pages, entry_sql

#: The version of the export document (the header's ``export`` key).
EXPORT_VERSION = 1
#: What the header's ``type`` says, so a witness knows the file for what it is.
EXPORT_TYPE = "habeas-ledger-export"
#: The media type of the file and of ``GET /api/v1/ledger/export``.
MEDIA_TYPE = "application/jsonl"

MSG_FORMAT = (
    "the ledger is in format {found}, which holds personal data in clear: it cannot be "
    "exported to a witness; see docs/ledger.md (format 2)"
)


@dataclass(frozen=True)
class ExportPlan:
    """What one export holds: the header (already signed) and the entries to stream."""

    header: dict[str, Any]
    start: int
    size: int

    @property
    def count(self) -> int:
        return self.size - self.start


def prepare_export(start: int = 0) -> ExportPlan:
    """Sign a checkpoint of the current tree head and build the header of an export of
    entries ``start`` … size − 1. Refused (nothing exported) for a ledger of another format,
    which would hand personal data to the witness, and for ``start`` beyond the size."""
    from habeas.ledger.checkpoint import verifier_key
    from habeas.ledger.keys import public_key, public_key_pem
    from habeas.ledger.models import LEDGER_FORMAT, LedgerHead
    from habeas.ledger.proofs import checkpoint_issue, consistency_proof, key_name
    from habeas.ledger.store import border_from_nodes

    found = LedgerHead.objects.filter(pk=1).values_list("format", flat=True).first()
    if found is not None and found != LEDGER_FORMAT:
        raise ValidationFailed(MSG_FORMAT.format(found=found))
    if start < 0:
        raise ValidationFailed("--from must be 0 or more")
    checkpoint = checkpoint_issue()
    size = checkpoint.size
    if start > size:
        raise ValidationFailed(f"--from {start} is beyond the ledger's size {size}")
    header: dict[str, Any] = {
        "type": EXPORT_TYPE,
        "export": EXPORT_VERSION,
        "format": LEDGER_FORMAT,
        "origin": key_name(),
        "from": start,
        "size": size,
        "root": checkpoint.root,
        "checkpoint": checkpoint.text,
        "public_key": public_key_pem(),
        "verifier_key": verifier_key(key_name(), public_key()),
        "base": None,
    }
    if start > 0:
        proof = consistency_proof(start, size)
        header["base"] = {
            "size": start,
            "root": proof["old_root"],
            "border": [h.hex() for h in border_from_nodes(start)],
            "consistency": proof["proof"],
        }
    return ExportPlan(header=header, start=start, size=size)


def _line(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def export_lines(
    plan: ExportPlan, *, progress: Callable[[int], None] | None = None, batch: int | None = None
) -> Iterator[bytes]:
    """The export, line by line (UTF-8 bytes ending in ``\\n``): the header, then entries
    ``plan.start`` … ``plan.size - 1`` read in keyset pages (``batch`` rows at a time)."""
    yield _line(plan.header)
    if plan.count == 0:
        return
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    for rows in entry_pages(entry_sql(), batch, after=plan.start - 1):
        lines = []
        for index, data, leaf in rows:
            if index >= plan.size:
                break
            text = bytes(data).decode("utf-8")
            lines.append(
                b'{"index":%d,"canonical":%s,"leaf_hash":%s}\n'
                % (index, dumps(text).encode("utf-8"), dumps(str(leaf)).encode("utf-8"))
            )
        if lines:
            yield b"".join(lines)
            if progress is not None:
                progress(len(lines))
        if rows[-1][0] >= plan.size - 1:
            return


def write_export(
    plan: ExportPlan, write: Callable[[bytes], Any], *, progress: Callable[[int], None] | None
) -> None:
    """Write the whole export through ``write`` (a file's or a stream's)."""
    for chunk in export_lines(plan, progress=progress):
        write(chunk)
