"""Reads of manifests and admission records, scoped to the user (``visible_to``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from habeas.accounts.permissions import may_read_admission_record
from habeas.core.errors import NotFound
from habeas.transfers.models import (
    AdmissionRecord,
    Manifest,
    ManifestEntry,
    ManifestQuerySet,
    RuleOutcome,
)

MSG_MANIFEST_NOT_FOUND = "manifest not found"

#: The Rule 7 record's fields a reader without :func:`may_read_admission_details` never sees:
#: injuries and ill-treatment complaints (Mandela Rule 7(d)), family and relatives' contacts
#: (Rule 7(f), Rule 68).
ADMISSION_DETAIL_FIELDS = (
    "visible_injuries",
    "ill_treatment_complaint",
    "family",
    "contact_name",
    "contact_relation",
    "contact_phone",
    "contact_email",
)
MSG_RECORD_NOT_FOUND = "admission record not found"


def manifest_list(*, user: Any) -> ManifestQuerySet:
    return (
        Manifest.objects.visible_to(user)
        .select_related("agreement")
        .order_by("-imported_at", "-pk")
    )


def manifest_get_for(*, user: Any, ref: str) -> Manifest:
    """The manifest if the user may see it; the same NotFound for missing and out of scope."""
    found = manifest_list(user=user).filter(ref=ref).first()
    if found is None:
        raise NotFound(MSG_MANIFEST_NOT_FOUND)
    return found


def manifest_resolve(ref: str) -> Manifest:
    """Unscoped (the CLI on the server itself)."""
    found = Manifest.objects.select_related("agreement").filter(ref=ref).first()
    if found is None:
        raise NotFound(f"no manifest {ref!r}")
    return found


def entry_list(manifest: Manifest, *, decision: str = "") -> Any:
    qs = ManifestEntry.objects.filter(manifest=manifest).prefetch_related(
        Prefetch("outcomes", queryset=RuleOutcome.objects.order_by("position"))
    )
    if decision:
        qs = qs.filter(decision=decision)
    return qs.order_by("row")


def entry_document(entry: ManifestEntry) -> dict[str, Any]:
    return {
        "row": entry.row,
        "sending_ref": entry.sending_ref,
        "decision": entry.decision,
        "decided_on": entry.decided_on.isoformat(),
        "status": entry.status,
        "person": str(entry.person_id) if entry.person_id else None,
        "matched_existing": entry.matched_existing,
        "candidates": entry.candidates,
        "rules": [
            {
                "rule": o.rule,
                "outcome": o.outcome,
                "message": o.message,
                "message_es": o.message_es,
                "source": o.source,
            }
            for o in entry.outcomes.all()
        ],
    }


def manifest_report(manifest: Manifest) -> dict[str, Any]:
    """The ``import-manifest --report`` document (INTERFACES.md): the same document as
    :func:`entry_document` for every entry, read as plain rows (two queries, no model
    instances)."""
    rules: dict[int, list[dict[str, str]]] = {}
    for entry_id, rule, outcome, message, message_es, source in (
        RuleOutcome.objects.filter(entry__manifest=manifest)
        .order_by("entry_id", "position")
        .values_list("entry_id", "rule", "outcome", "message", "message_es", "source")
        .iterator(chunk_size=5000)
    ):
        rules.setdefault(entry_id, []).append(
            {
                "rule": rule,
                "outcome": outcome,
                "message": message,
                "message_es": message_es,
                "source": source,
            }
        )
    docs = [
        {
            "row": row,
            "sending_ref": sending_ref,
            "decision": decision,
            "decided_on": decided_on.isoformat(),
            "status": status,
            "person": str(person_id) if person_id else None,
            "matched_existing": matched_existing,
            "candidates": candidates,
            "rules": rules.pop(pk, []),
        }
        for pk, row, sending_ref, decision, decided_on, status, person_id, matched_existing, (
            candidates
        ) in ManifestEntry.objects.filter(manifest=manifest)
        .order_by("row")
        .values_list(
            "pk",
            "row",
            "sending_ref",
            "decision",
            "decided_on",
            "status",
            "person_id",
            "matched_existing",
            "candidates",
        )
        .iterator(chunk_size=5000)
    ]
    return {
        "manifest": manifest.ref,
        "agreement": manifest.agreement.code,
        "decided_on": manifest.decided_on.isoformat(),
        "counts": {
            "eligible": manifest.eligible,
            "ineligible": manifest.ineligible,
            "needs_review": manifest.needs_review,
        },
        "entries": docs,
    }


def admission_record_get_for(*, user: Any, record_id: int) -> AdmissionRecord:
    """The Rule 7 admission record in the user's scope. Finance officers never see one
    (injuries, ill-treatment complaints, family contacts: Mandela Rule 9, need to know): the
    same 404 as a missing record."""
    from habeas.custody.models import CustodyEpisode

    if not may_read_admission_record(user):
        raise NotFound(MSG_RECORD_NOT_FOUND)
    episodes = CustodyEpisode.objects.visible_to(user)
    record = (
        AdmissionRecord.objects.filter(pk=record_id, episode__in=episodes)
        .select_related("episode", "episode__person", "episode__facility")
        .first()
    )
    if record is None:
        raise NotFound(MSG_RECORD_NOT_FOUND)
    return record
