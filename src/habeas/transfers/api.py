"""``/api/v1/manifests/`` and ``/api/v1/matching/`` (INTERFACES.md: every command has an
endpoint; the import answers the ``import-manifest --report`` document).

Who may do what: the sending state's liaison and the receiving facilities' staff import;
only the receiving facilities' staff and admins accept and admit. Manifests are read through
``Manifest.objects.visible_to`` (out of scope and missing: the same 404).
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile

from habeas.accounts.auth import api_user
from habeas.accounts.models import User
from habeas.accounts.permissions import is_receiving_staff, may_import_manifest
from habeas.agreements.models import Agreement
from habeas.core import audit
from habeas.core.actor import Actor
from habeas.core.api import NameText, PlausibleDate, SafeText, errors
from habeas.core.clock import parse_instant
from habeas.core.errors import Forbidden, NotFound, ValidationFailed
from habeas.core.limits import MAX_ALIASES
from habeas.facilities.models import Facility
from habeas.people.matching import PersonRecord, registry_match
from habeas.transfers.disclosure import report_for
from habeas.transfers.manifest import check_birth, country_code, parse_partial_date
from habeas.transfers.selectors import manifest_get_for, manifest_list, manifest_report
from habeas.transfers.services import manifest_accept, manifest_admit_each, manifest_import

router = Router(tags=["transfers"])

MSG_RECEIVING_ONLY = "only the receiving facility's staff may do this"
MSG_NO_IMPORT = "only the sending state's liaison or the receiving facility's staff may import"


def _agreement_for(user: User, code: str) -> Agreement:
    found = Agreement.objects.visible_to(user).filter(code=code).first()
    if found is None:
        raise NotFound("agreement not found")
    return found


def require_receiving_staff(user: User, agreement: Agreement) -> None:
    """403 unless ``user`` is the staff of a facility ``agreement`` covers (or a superuser):
    they accept and admit (:func:`habeas.accounts.permissions.is_receiving_staff`)."""
    if not is_receiving_staff(user, agreement.facilities.values_list("code", flat=True)):
        raise Forbidden(MSG_RECEIVING_ONLY)


def require_may_import(user: User, agreement: Agreement) -> None:
    """403 unless ``user`` may import a manifest of ``agreement``: its sending state's liaison
    or its receiving facility's staff (:func:`habeas.accounts.permissions.may_import_manifest`)."""
    if not may_import_manifest(
        user,
        sending_state=agreement.sending.code,
        facility_codes=agreement.facilities.values_list("code", flat=True),
    ):
        raise Forbidden(MSG_RECEIVING_ONLY)


class RuleOut(Schema):
    rule: str
    outcome: str
    message: str
    message_es: str
    source: str


class EntryOut(Schema):
    row: int
    sending_ref: str
    decision: str
    decided_on: str
    status: str
    person: str | None
    matched_existing: bool
    candidates: list[dict[str, Any]]
    identity_decisions: list[dict[str, Any]] = []
    rules: list[RuleOut]


class ReportOut(Schema):
    """The ``import-manifest --report`` document."""

    manifest: str
    agreement: str
    decided_on: str
    counts: dict[str, int]
    entries: list[EntryOut]


class ManifestOut(Schema):
    ref: str
    agreement: str
    rows: int
    decided_on: str
    imported_at: str
    counts: dict[str, int]


@router.get(
    "/manifests/",
    response={200: list[ManifestOut], **errors()},
    summary="List manifests",
    operation_id="manifests_list",
)
def manifests_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "ref": m.ref,
            "agreement": m.agreement.code,
            "rows": m.rows,
            "decided_on": m.decided_on.isoformat(),
            "imported_at": m.imported_at.isoformat(),
            "counts": {
                "eligible": m.eligible,
                "ineligible": m.ineligible,
                "needs_review": m.needs_review,
            },
        }
        for m in manifest_list(user=api_user(request))[:500]
    ]


@router.post(
    "/manifests/",
    response={200: ReportOut, **errors(400, 401, 403, 404, 409)},
    summary="Import a manifest (CSV or JSON file)",
    operation_id="manifests_import",
)
def manifests_import(
    request: HttpRequest,
    file: File[UploadedFile],
    agreement: Form[str],
    ref: Form[str | None] = None,
    dry_run: Form[bool] = False,
    on: Form[PlausibleDate | None] = None,
) -> dict[str, Any]:
    """400 with every problem (``details.problems``: row, column, message) when the file is
    not a manifest; nothing is stored then. The same manifest again answers its report."""
    user = api_user(request)
    found = _agreement_for(user, agreement)
    require_may_import(user, found)
    if file.file is None:
        raise ValidationFailed("no file was uploaded")
    result = manifest_import(
        actor=Actor.from_user(user),
        data=file.file,
        agreement=found,
        ref=ref or None,
        filename=file.name or "",
        decided_on=on,
        dry_run=dry_run,
    )
    report = report_for(user, result.report)
    if dry_run:  # stores nothing: the access log is its only trace (Mandela Rule 9)
        audit.registry_probed(
            user=user,
            query="dry_run",
            subject=f"{found.code} {file.name or ''} ({len(report['entries'])} rows)",
            channel="api",
        )
    return report


@router.get(
    "/manifests/{ref}/",
    response={200: ReportOut, **errors()},
    summary="A manifest's decisions",
    operation_id="manifests_get",
)
def manifests_get(request: HttpRequest, ref: str) -> dict[str, Any]:
    user = api_user(request)
    return report_for(user, manifest_report(manifest_get_for(user=user, ref=ref)))


class AcceptIn(Schema):
    all_eligible: bool = False
    only: list[SafeText] = Field([], max_length=100_000)


class AcceptOut(Schema):
    manifest: str
    accepted: list[str]


@router.post(
    "/manifests/{ref}/accept",
    response={200: AcceptOut, **errors(400, 401, 403, 404, 409)},
    summary="Accept entries",
    operation_id="manifests_accept",
)
def manifests_accept(request: HttpRequest, ref: str, body: AcceptIn) -> dict[str, Any]:
    user = api_user(request)
    manifest = manifest_get_for(user=user, ref=ref)
    require_receiving_staff(user, manifest.agreement)
    accepted = manifest_accept(
        actor=Actor.from_user(user),
        manifest=manifest,
        all_eligible=body.all_eligible,
        only=body.only,
    )
    return {"manifest": manifest.ref, "accepted": [e.sending_ref for e in accepted]}


class WithdrawIn(Schema):
    only: list[str] = Field(..., description="sending references of accepted entries")
    reason: str = Field(..., max_length=500)


class WithdrawOut(Schema):
    manifest: str
    withdrawn: list[str]


@router.post(
    "/manifests/{ref}/withdrawals",
    response={200: WithdrawOut, **errors(400, 401, 403, 404, 409)},
    summary="Withdraw the acceptance of entries not yet admitted",
    operation_id="manifests_withdraw",
)
def manifests_withdraw(request: HttpRequest, ref: str, body: WithdrawIn) -> dict[str, Any]:
    """``transfers.acceptance_withdrawn``: the entries are decided again, their places given
    back, the reason on the ledger. The receiving facility's staff only."""
    from habeas.transfers.services import acceptance_withdraw

    user = api_user(request)
    manifest = manifest_get_for(user=user, ref=ref)
    require_receiving_staff(user, manifest.agreement)
    withdrawn = acceptance_withdraw(
        actor=Actor.from_user(user), manifest=manifest, only=body.only, reason=body.reason
    )
    return {"manifest": manifest.ref, "withdrawn": [e.sending_ref for e in withdrawn]}


class IdentityDecisionIn(Schema):
    sending_ref: SafeText = Field(..., description="the entry's sending reference")
    person: int = Field(..., ge=1, description="registry id of one of the entry's candidates")
    decision: Literal["same", "different"]
    reason: str = Field(..., min_length=1, max_length=2000)


class IdentityDecisionOut(Schema):
    manifest: str
    sending_ref: str
    person: str
    decision: str
    reason: str
    decided_at: str
    decided_by: str
    linked_person: str | None


@router.post(
    "/manifests/{ref}/identity-decisions",
    response={200: IdentityDecisionOut, **errors(400, 401, 403, 404, 409)},
    summary="Judge a possible match: same person or different person",
    operation_id="manifests_identity_decide",
)
def manifests_identity_decide(
    request: HttpRequest, ref: str, body: IdentityDecisionIn
) -> dict[str, Any]:
    """``transfers.identity_decided``: ``same`` links the entry to the registry person (it
    is admitted as them), ``different`` dismisses that candidate for the entry. The
    receiving facility's staff only, before acceptance; a candidate the caller may not see
    is answered 404. The same judgement again writes nothing."""
    from habeas.transfers.identity import identity_decide
    from habeas.transfers.models import ManifestEntry

    user = api_user(request)
    manifest = manifest_get_for(user=user, ref=ref)
    require_receiving_staff(user, manifest.agreement)
    entry = ManifestEntry.objects.filter(manifest=manifest, sending_ref=body.sending_ref).first()
    if entry is None:
        raise NotFound("entry not found")
    decision = identity_decide(
        actor=Actor.from_user(user),
        user=user,
        entry=entry,
        person_id=body.person,
        verdict=body.decision,
        reason=body.reason,
    )
    entry.refresh_from_db(fields=["person"])
    return {
        "manifest": manifest.ref,
        "sending_ref": entry.sending_ref,
        "person": str(decision.person_id),
        "decision": decision.verdict,
        "reason": decision.reason,
        "decided_at": decision.decided_at.isoformat(),
        "decided_by": decision.decided_by,
        "linked_person": str(entry.person_id) if entry.person_id else None,
    }


class AdmitIn(Schema):
    arrived_at: str = Field(..., max_length=64)
    facility: str | None = Field(None, max_length=64)
    only: list[str] = Field([], description="sending references; empty: every accepted entry")


class NotHousedOut(Schema):
    sending_ref: str
    reason: str


class AdmitOut(Schema):
    manifest: str
    admitted: list[dict[str, str]]
    not_admitted: list[NotHousedOut]


@router.post(
    "/manifests/{ref}/admit",
    response={200: AdmitOut, **errors(400, 401, 403, 404, 409)},
    summary="Admit the accepted entries that arrived",
    operation_id="manifests_admit",
)
def manifests_admit(request: HttpRequest, ref: str, body: AdmitIn) -> dict[str, Any]:
    user = api_user(request)
    manifest = manifest_get_for(user=user, ref=ref)
    require_receiving_staff(user, manifest.agreement)
    try:
        at = parse_instant(body.arrived_at)
    except ValueError as exc:
        raise ValidationFailed(str(exc), details={"arrived_at": [str(exc)]}) from None
    facility = None
    if body.facility:
        facility = Facility.objects.visible_to(user).filter(code=body.facility).first()
        if facility is None:
            raise NotFound("facility not found")
    outcome = manifest_admit_each(
        actor=Actor.from_user(user),
        manifest=manifest,
        arrived_at=at,
        facility=facility,
        only=body.only,
    )
    return {
        "manifest": manifest.ref,
        "admitted": [{"person": str(e.person_id), "episode": str(e.pk)} for e in outcome.episodes],
        "not_admitted": [
            {"sending_ref": n.sending_ref, "reason": n.reason} for n in outcome.not_housed
        ],
    }


class MatchIn(Schema):
    """A person to look for. Bounded (docs/interfaces.md, "Limits"): each name at most 200
    characters and 10 words, at most 20 aliases, so one request does bounded work."""

    given_names: NameText
    first_surname: NameText
    second_surname: NameText = ""
    aliases: list[NameText] = Field([], max_length=MAX_ALIASES)
    date_of_birth: str | None = Field(None, max_length=10)
    sex: str = Field("", max_length=1)
    nationalities: list[str] = Field([], max_length=10)


class MatchOut(Schema):
    person: str
    score: float
    band: str
    reasons: list[str]


@router.post(
    "/matching/",
    response={200: list[MatchOut], **errors()},
    summary="Match a person against the registry",
    operation_id="matching_match",
)
def matching_match(request: HttpRequest, body: MatchIn) -> list[dict[str, Any]]:
    """Candidates in the *same* and *possible* bands, best first, limited to the people the
    user may see (matching itself looks at everyone; the answer never leaks beyond scope)."""
    from habeas.people.models import Person

    user = api_user(request)
    dob, precision = None, "day"
    try:
        if body.date_of_birth:
            dob, precision = parse_partial_date(body.date_of_birth)
            check_birth(dob)
        nats = [country_code(c) for c in body.nationalities]
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    found = registry_match(
        PersonRecord(
            ref="query",
            given_names=body.given_names,
            first_surname=body.first_surname,
            second_surname=body.second_surname,
            aliases=body.aliases,
            date_of_birth=dob,
            dob_precision=precision,
            sex=body.sex.upper(),
            nationalities=nats,
        )
    )
    visible = set(
        Person.objects.visible_to(user)
        .filter(pk__in=[int(m.ref) for m in found])
        .values_list("pk", flat=True)
    )
    answer = [
        {"person": m.ref, "score": m.score, "band": m.band, "reasons": list(m.reasons)}
        for m in found
        if int(m.ref) in visible
    ][:20]
    audit.registry_probed(  # changes nothing: the access log is its only trace (Rule 9)
        user=user,
        query="matching",
        subject="answered: " + (", ".join(str(a["person"]) for a in answer) or "none"),
        channel="api",
    )
    return answer
