"""``/api/v1/ledger/…``: the public face of the ledger (ARCHITECTURE.md, the one rule).

The tree size and root hash are public on purpose: anyone holding an earlier checkpoint can
ask for them and later demand a consistency proof (RFC 9162 §2.1.4), so a rewritten history
shows. No entry content is exposed here.
"""

from django.http import HttpRequest
from ninja import Router, Schema

from habeas.ledger.services import ledger_root, ledger_size

router = Router(tags=["ledger"])


class LedgerSizeOut(Schema):
    size: int
    root: str  # hex SHA-256 Merkle tree hash of the first ``size`` entries (RFC 9162)


@router.get(
    "/ledger/size",
    response={200: LedgerSizeOut},
    auth=None,
    summary="Ledger tree size and root hash (public)",
    operation_id="ledger_size",
)
def ledger_size_get(request: HttpRequest) -> LedgerSizeOut:
    size = ledger_size()
    return LedgerSizeOut(size=size, root=ledger_root(size).hex())
