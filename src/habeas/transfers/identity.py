"""A person's judgement of a possible match: is this manifest entry the registry person the
matcher offered, or someone else? (Mandela Rule 7(a): one identity per person; Mandela Rule
9: a judge sees, and may name, only the registry people their scope reaches.)

``same``: the entry is linked to that person; accepted after review, it is admitted as them
(:func:`habeas.transfers.services.manifest_admit` admits an entry with a person as that
person). ``different``: the candidate is dismissed for this entry and no longer offered on the
comparison page; if the entry was linked to that person (the matcher's "same" band), the link
is undone and the entry is admitted as a new registry record. The reason is personal (free
text): on the ledger only as a commitment under the entry's key.
"""

from __future__ import annotations

from typing import Any

from habeas.accounts.permissions import is_receiving_staff
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from habeas.core.services import service
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.models import Person
from habeas.transfers.choices import EntryStatus, IdentityVerdict
from habeas.transfers.disclosure import entry_for_reader, visible_people
from habeas.transfers.models import IdentityDecision, ManifestEntry
from habeas.transfers.selectors import entry_document

MSG_REASON = "a judgement of a possible match needs a reason"
MSG_VERDICT = "the judgement is 'same' or 'different'"
MSG_NOT_STAFF = "only the receiving facility's staff judge a possible match"
MSG_NOT_CANDIDATE = "registry person {person} is not a possible match of entry {ref}"
MSG_NOT_DECIDED = (
    "entry {ref} is {status}: the identity of an entry is judged before it is accepted "
    "(withdraw the acceptance first)"
)
MSG_OTHER_SAME = (
    "entry {ref} is already judged the same person as registry person {other}: judge that "
    "one a different person first"
)
#: Longest reason kept (a few sentences; the rest of the story belongs in the file).
MAX_REASON = 2000


def candidate_ids(entry: ManifestEntry, user: Any) -> list[int]:
    """The registry people ``entry`` may be that ``user`` may see: its candidates and the
    person it is linked to (:func:`habeas.transfers.disclosure.entry_for_reader`)."""
    doc = entry_document(entry)
    shown = entry_for_reader(doc, visible_people(user, [doc]))
    ids = [int(c["person"]) for c in shown["candidates"] if c.get("person")]
    if shown["person"] and int(shown["person"]) not in ids:
        ids.insert(0, int(shown["person"]))
    return ids


def decisions_of(entry: ManifestEntry, user: Any) -> dict[int, IdentityDecision]:
    """The judgements recorded for ``entry`` about registry people ``user`` may see, by
    person id (a scoped reader never learns of a judgement about anyone else)."""
    found = {d.person_id: d for d in IdentityDecision.objects.filter(entry=entry)}
    if not found:
        return {}
    visible = visible_people(user, [{"candidates": [{"person": p} for p in found]}])
    return {p: d for p, d in found.items() if visible is None or p in visible}


@service
def identity_decide(
    *,
    actor: Actor,
    user: Any,
    entry: ManifestEntry,
    person_id: int,
    verdict: str,
    reason: str,
) -> IdentityDecision:
    """Record ``user``'s judgement that ``entry`` is (``same``) or is not (``different``)
    the registry person ``person_id``, one of its candidates ``user`` may see, with a
    reason; one ``transfers.identity_decided`` entry. The receiving facility's staff only
    (403 otherwise), before acceptance. The same judgement again writes nothing (a retried
    request); a change of mind replaces the judgement, and the ledger keeps both. At most
    one registry person is judged the same as an entry."""
    reason = reason.strip()
    if verdict not in IdentityVerdict.values:
        raise ValidationFailed(MSG_VERDICT)
    if not reason:
        raise ValidationFailed(MSG_REASON)
    reason = reason[:MAX_REASON]
    entry = (
        ManifestEntry.objects.select_for_update()
        .select_related("manifest__agreement")
        .get(pk=entry.pk)
    )
    codes = entry.manifest.agreement.facilities.values_list("code", flat=True)
    if not is_receiving_staff(user, codes):
        raise Forbidden(MSG_NOT_STAFF)
    if person_id not in candidate_ids(entry, user):
        raise NotFound(MSG_NOT_CANDIDATE.format(person=person_id, ref=entry.sending_ref))
    current = IdentityDecision.objects.filter(entry=entry, person_id=person_id).first()
    if current is not None and current.verdict == verdict:
        return current  # the same judgement again: nothing to record
    if entry.status != EntryStatus.DECIDED:
        raise Conflict(
            MSG_NOT_DECIDED.format(ref=entry.sending_ref, status=entry.get_status_display())
        )
    if verdict == IdentityVerdict.SAME:
        other = (
            IdentityDecision.objects.filter(entry=entry, verdict=IdentityVerdict.SAME)
            .exclude(person_id=person_id)
            .values_list("person_id", flat=True)
            .first()
        )
        if other is not None:
            raise Conflict(MSG_OTHER_SAME.format(ref=entry.sending_ref, other=other))
        entry.person = Person.objects.get(pk=person_id)
        entry.matched_existing = True
    elif entry.person_id == person_id:
        entry.person = None
        entry.matched_existing = False
    entry.save(update_fields=["person", "matched_existing"])
    at = now()
    by = actor.name[:150]
    decision, _created = IdentityDecision.objects.update_or_create(
        entry=entry,
        person_id=person_id,
        defaults={"verdict": verdict, "reason": reason, "decided_at": at, "decided_by": by},
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="transfers.identity_decided",
                subject=f"manifest:{entry.manifest.ref}",
                occurred_at=at,
                payload={
                    "id": decision.pk,
                    "manifest": entry.manifest.ref,
                    "entry": entry.pk,
                    "sending_ref": entry.sending_ref,
                    "person": person_id,
                    "verdict": verdict,
                    "reason": reason,
                    "at": at,
                    "by": by,
                    "linked": entry.person_id,
                    "matched_existing": entry.matched_existing,
                },
            )
        ],
    )
    return decision
