"""``/api/v1/ledger/…``: the public face of the ledger (ARCHITECTURE.md, the one rule).

Tree heads, signed checkpoints, the public key and proofs are public on purpose (hashes only):
entries, which hold personal data, are for the auditor and oversight roles. The tree size
and root hash are public on purpose: anyone holding an earlier checkpoint can
ask for them and later demand a consistency proof (RFC 9162 §2.1.4), so a rewritten history
shows. No entry content is exposed here.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Router, Schema

from habeas.core.api import errors
from habeas.core.errors import Forbidden, NotFound
from habeas.core.limits import ascii_id
from habeas.ledger.models import LedgerCheckpoint
from habeas.ledger.proofs import consistency_proof, entry_document, inclusion_proof, tree_head
from habeas.ledger.services import ledger_root, ledger_size

router = Router(tags=["ledger"])

#: Roles that may read entry payloads (personal data): Mandela Rule 9, need-to-know.
ENTRY_ROLES = {"auditor", "oversight"}
#: Roles that verify the ledger and may take a witness copy of it (ARCHITECTURE.md, users).
EXPORT_ROLES = ENTRY_ROLES


def _may(request: HttpRequest, roles: set[str]) -> bool:
    # The ledger sits below the accounts app: read the authenticated user duck-typed.
    user = getattr(request, "auth", None)
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in roles)


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
    if not _may(request, ENTRY_ROLES):
        raise Forbidden("ledger entries hold personal data: auditor and oversight roles only")
    return entry_document(index)


_EXPORT_DOC = """The public ledger as JSON Lines for an independent witness (docs/ledger.md):
a header line (`type` `habeas-ledger-export`, `export` 1, `format` 2, `origin`, `from`,
`size`, `root`, the signed `checkpoint`, `public_key`, `verifier_key`, and `base` — the
border, root and RFC 9162 consistency proof of the first `from` entries, or null), then one line
per entry `{"index", "canonical", "leaf_hash"}`. Streamed; a checkpoint is signed for it.
Check it with `habeas ledger witness FILE [--against OLDFILE | --checkpoint CP]`."""


@router.get(
    "/ledger/export",
    response={200: None, **errors(400, 401, 403, 404, 409)},
    summary="The public ledger as JSON Lines, for a witness copy (oversight and auditor)",
    description=_EXPORT_DOC,
    operation_id="ledger_export",
    openapi_extra={
        "parameters": [
            {
                "name": "from",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 0, "default": 0},
                "description": "export entries from this index on, with a consistency proof",
            }
        ],
        "responses": {
            200: {
                "description": "the export, streamed",
                "content": {
                    "application/jsonl": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    },
)
def ledger_export(request: HttpRequest) -> StreamingHttpResponse:
    from habeas.core.errors import ValidationFailed
    from habeas.ledger.export import MEDIA_TYPE, export_lines, prepare_export

    if not _may(request, EXPORT_ROLES):
        raise Forbidden("the ledger export is for the oversight and auditor roles")
    raw = request.GET.get("from", "0")
    if ascii_id(raw) is None:
        raise ValidationFailed("from must be a whole number ≥ 0", details={"from": raw})
    plan = prepare_export(int(raw))
    response = StreamingHttpResponse(export_lines(plan), content_type=MEDIA_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="ledger-{plan.start}-{plan.size}.jsonl"'
    )
    return response
