"""``/api/v1/ledger/…``: the public face of the ledger (ARCHITECTURE.md, the one rule).

Tree heads, signed checkpoints, the public key and proofs are public on purpose (hashes only):
entries, which hold personal data, are for the auditor and oversight roles. The tree size
and root hash are public on purpose: anyone holding an earlier checkpoint can
ask for them and later demand a consistency proof (RFC 9162 §2.1.4), so a rewritten history
shows. No entry content is exposed here.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from habeas.core.api import errors
from habeas.core.errors import Forbidden, NotFound
from habeas.ledger.models import LedgerCheckpoint
from habeas.ledger.proofs import consistency_proof, entry_document, inclusion_proof, tree_head
from habeas.ledger.services import ledger_root, ledger_size

router = Router(tags=["ledger"])

#: Roles that may read entry payloads (personal data): Mandela Rule 9, need-to-know.
ENTRY_ROLES = {"auditor", "oversight"}


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


# --- proofs, checkpoints and entries (accountability) ---------------------------------------


class TreeHeadOut(Schema):
    size: int
    root: str


class ProofOut(Schema):
    """RFC 9162 proof; hashes hex (INTERFACES.md ``ledger proof --json``)."""

    proof: list[str]
    root: str
    size: int
    index: int | None = None
    leaf_hash: str | None = None
    old_root: str | None = None
    old_size: int | None = None


class EntryOut(Schema):
    index: int
    leaf_hash: str
    canonical: str  # base64 of the exact bytes hashed
    action: str
    subject: str
    actor: str
    occurred_at: str
    recorded_at: str


class CheckpointOut(Schema):
    size: int
    root: str
    text: str  # signed note (C2SP checkpoint)
    created_at: str


@router.get(
    "/ledger/tree-head",
    response={200: TreeHeadOut},
    auth=None,
    summary="Current tree head (public)",
    operation_id="ledger_tree_head",
)
def ledger_tree_head(request: HttpRequest) -> dict[str, Any]:
    return tree_head()


@router.get(
    "/ledger/public-key",
    auth=None,
    summary="Ed25519 public key that signs checkpoints (PEM, public)",
    operation_id="ledger_public_key",
)
def ledger_public_key(request: HttpRequest) -> HttpResponse:
    from habeas.ledger.checkpoint import verifier_key
    from habeas.ledger.keys import public_key, public_key_pem
    from habeas.ledger.proofs import key_name

    response = HttpResponse(public_key_pem(), content_type="application/x-pem-file")
    response["X-Habeas-Verifier-Key"] = verifier_key(key_name(), public_key())
    return response


@router.get(
    "/ledger/checkpoint",
    response={200: CheckpointOut, **errors(404)},
    auth=None,
    summary="The latest signed checkpoint (public)",
    operation_id="ledger_checkpoint",
)
def ledger_checkpoint(request: HttpRequest) -> dict[str, Any]:
    latest = LedgerCheckpoint.objects.order_by("-size", "-created_at").first()
    if latest is None:
        raise NotFound("no checkpoint has been issued yet")
    return {
        "size": latest.size,
        "root": latest.root,
        "text": latest.text,
        "created_at": latest.created_at.isoformat(),
    }


@router.get(
    "/ledger/proofs/inclusion",
    response={200: ProofOut, **errors(400)},
    auth=None,
    summary="Inclusion proof of entry `index` in the tree of `size` entries (public, hashes only)",
    operation_id="ledger_inclusion_proof",
)
def ledger_inclusion(request: HttpRequest, index: int, size: int | None = None) -> dict[str, Any]:
    return inclusion_proof(index, size)


@router.get(
    "/ledger/proofs/consistency",
    response={200: ProofOut, **errors(400)},
    auth=None,
    summary="Consistency proof between tree sizes `first` and `second` (public, hashes only)",
    operation_id="ledger_consistency_proof",
)
def ledger_consistency(
    request: HttpRequest, first: int, second: int | None = None
) -> dict[str, Any]:
    return consistency_proof(first, second)


@router.get(
    "/ledger/entries/{index}",
    response={200: EntryOut, **errors()},
    summary="One ledger entry with its payload (auditor and oversight only: personal data)",
    operation_id="ledger_entry",
)
def ledger_entry(request: HttpRequest, index: int) -> dict[str, Any]:
    # The ledger sits below the accounts app: read the authenticated user duck-typed.
    user = getattr(request, "auth", None)
    if not (getattr(user, "is_superuser", False) or getattr(user, "role", "") in ENTRY_ROLES):
        raise Forbidden("ledger entries hold personal data: auditor and oversight roles only")
    return entry_document(index)
