"""Reads of manifests and admission records, scoped to the user (``visible_to``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

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
        "identity_decisions": identity_rows([entry.pk])[entry.pk],
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


#: Entries read per query when the report is built or streamed: memory stays bounded by a
#: page whatever the manifest's size (MANIFEST.md allows 100,000 rows).
REPORT_PAGE = 1000

_ENTRY_COLUMNS = (
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


def manifest_summary(manifest: Manifest) -> dict[str, Any]:
    """The ``import-manifest --report`` document (INTERFACES.md) without its entries: what
    the command prints as its counts line."""
    return {
        "manifest": manifest.ref,
        "agreement": manifest.agreement.code,
        "decided_on": manifest.decided_on.isoformat(),
        "counts": {
            "eligible": manifest.eligible,
            "ineligible": manifest.ineligible,
            "needs_review": manifest.needs_review,
        },
    }


def rule_rows(entry_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Each entry's rule outcomes in order, as plain rows (one query, no model instance per
    rule): ``rule``, ``outcome``, ``message``, ``message_es``, ``source``."""
    rules: dict[int, list[dict[str, str]]] = {pk: [] for pk in entry_ids}
    for entry_id, rule, outcome, message, message_es, source in (
        RuleOutcome.objects.filter(entry_id__in=entry_ids)
        .order_by("entry_id", "position")
        .values_list("entry_id", "rule", "outcome", "message", "message_es", "source")
    ):
        rules[entry_id].append(
            {
                "rule": rule,
                "outcome": outcome,
                "message": message,
                "message_es": message_es,
                "source": source,
            }
        )
    return rules


def identity_rows(entry_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each entry's judgements of a possible match (:mod:`habeas.transfers.identity`) as
    plain rows, oldest first (one query): ``person``, ``decision`` (``same`` or
    ``different``), ``reason``, ``decided_at``, ``decided_by``."""
    from habeas.transfers.models import IdentityDecision

    found: dict[int, list[dict[str, Any]]] = {pk: [] for pk in entry_ids}
    for entry_id, person_id, verdict, reason, at, by in (
        IdentityDecision.objects.filter(entry_id__in=entry_ids)
        .order_by("entry_id", "decided_at", "pk")
        .values_list("entry_id", "person_id", "verdict", "reason", "decided_at", "decided_by")
    ):
        found[entry_id].append(
            {
                "person": str(person_id),
                "decision": verdict,
                "reason": reason,
                "decided_at": at.isoformat(),
                "decided_by": by,
            }
        )
    return found


def manifest_entry_documents(manifest: Manifest) -> Iterator[dict[str, Any]]:
    """The report's entries in row order, the same document as :func:`entry_document`, read
    as plain rows a page at a time (three queries per :data:`REPORT_PAGE` entries, no model
    instances): a caller that writes them out holds one page, not the manifest."""
    last = 0
    while True:
        page = list(
            ManifestEntry.objects.filter(manifest=manifest, row__gt=last)
            .order_by("row")
            .values_list(*_ENTRY_COLUMNS)[:REPORT_PAGE]
        )
        if not page:
            return
        rules = rule_rows([pk for pk, *_ in page])
        judged = identity_rows([pk for pk, *_ in page])
        for pk, row, sending_ref, decision, decided_on, status, person_id, matched, (
            candidates
        ) in page:
            yield {
                "row": row,
                "sending_ref": sending_ref,
                "decision": decision,
                "decided_on": decided_on.isoformat(),
                "status": status,
                "person": str(person_id) if person_id else None,
                "matched_existing": matched,
                "candidates": candidates,
                "identity_decisions": judged[pk],
                "rules": rules[pk],
            }
        last = page[-1][1]


def manifest_report(manifest: Manifest) -> dict[str, Any]:
    """The ``import-manifest --report`` document (INTERFACES.md): the same document as
    :func:`entry_document` for every entry (:func:`manifest_entry_documents`)."""
    return {**manifest_summary(manifest), "entries": list(manifest_entry_documents(manifest))}


def report_text(summary: dict[str, Any], entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The report document as JSON text, piece by piece: exactly
    ``json.dumps({**summary, "entries": [...]}, indent=2, ensure_ascii=False)``, without
    holding the entries (a 100,000-row manifest has about 1.2 million rule outcomes)."""
    head = json.dumps({**summary, "entries": []}, indent=2, ensure_ascii=False)
    closing = "[]\n}"
    assert head.endswith(closing)
    first = True
    for doc in entries:
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        # JSON text holds no raw newline inside a value: every line break is indentation.
        body = "    " + text.replace("\n", "\n    ")
        if first:
            yield head[: -len(closing)] + "[\n" + body
            first = False
        else:
            yield ",\n" + body
    yield head if first else "\n  ]\n}"


def manifest_report_write(manifest: Manifest, out: IO[str]) -> None:
    """Write the ``--report`` document of a stored manifest to ``out`` page by page."""
    for piece in report_text(manifest_summary(manifest), manifest_entry_documents(manifest)):
        out.write(piece)


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
