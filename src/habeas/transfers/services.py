"""Intake writes: import a manifest, accept entries, admit arrivals with the Rule 7 record and
the notification outbox (ARCHITECTURE.md data flow; ISSUE 3).

Every service runs in one transaction with its ledger entries: ``transfers.entry_decided``
(one per entry) and ``transfers.manifest_imported``; ``transfers.manifest_accepted``;
``transfers.admission_recorded`` and ``transfers.notification_queued``. A process killed in
the middle of an import leaves nothing of it, and the rerun stores it once.

Test hook: with the environment variable :data:`PAUSE_ENV` (``HABEAS_TEST_IMPORT_PAUSE_AFTER``)
set to N, an import stops once N rows are stored, inside its open transaction, says so on
stderr and sleeps, so a test can kill it there (tests/transfers/test_import_killed.py). Never
set it in production: the import would hold its transaction for minutes.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from habeas.agreements.models import Agreement
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, NotFound, ValidationFailed
from habeas.core.services import service
from habeas.custody.models import CustodyEpisode
from habeas.custody.services import AdmissionSpec, LegalBasisSpec
from habeas.facilities.models import Cell, Facility, Module
from habeas.housing.models import Placement
from habeas.housing.placements import admit_and_place_many
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.matching import PersonRecord, registry_match_many
from habeas.people.models import Person, PersonIdentifier
from habeas.people.services import (
    Identifier,
    PersonSpec,
    person_create_many,
    person_identifiers_add,
)
from habeas.transfers.choices import Decision, EntryStatus, NotificationKind
from habeas.transfers.manifest import (
    FileCheck,
    ManifestRefused,
    ParsedRow,
    Problem,
    Source,
    check_file,
    raw_rows,
    validate_row,
)
from habeas.transfers.models import (
    AdmissionRecord,
    Manifest,
    ManifestEntry,
    Notification,
    RuleOutcome,
)
from habeas.transfers.rules import (
    Context,
    MatchInfo,
    Quota,
    RuleResult,
    decide,
    evaluate_plan,
    invalid_results,
    plan,
    rules_for,
)

CHUNK = 1000

MSG_REF_TAKEN = "manifest reference {ref} already names a different manifest"
MSG_REF_FORMAT = "a manifest reference is 1-64 letters, digits, '.', '_' or '-'"
MSG_NOT_DECIDED = "entries {refs} are not in manifest {ref}"
MSG_INELIGIBLE = "entries {refs} are ineligible and can never be accepted"
MSG_QUOTA = (
    "accepting {n} would exceed the quota of agreement {agreement}: {used} of {max} places "
    "are held or accepted"
)
MSG_CAPACITY = (
    "accepting {n} would exceed the working capacity of {facilities}: {free} places free "
    "(working capacity less people held and accepted)"
)
MSG_LAWFUL = (
    "accepting {n} would exceed the places that may lawfully hold them in {facilities} "
    "(Mandela Rule 11: population kind and regime): no place for {short}"
)
MSG_NOTHING = "nothing to accept: no entry matches"
MSG_NOTHING_TO_ADMIT = "manifest {ref} has no accepted entry waiting for admission"
MSG_FACILITY = "agreement {agreement} covers several facilities: say which one (--facility)"

_REF = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class ImportResult:
    """What an import did. ``report`` (the ``--report`` document, every entry with every
    rule) is built when first asked for, from the stored rows: a caller that only needs the
    counts does not pay for it."""

    manifest: Manifest | None
    recognised: bool
    dry_run: bool
    _report: dict[str, Any] | None = None
    _summary: dict[str, Any] | None = None

    @property
    def report(self) -> dict[str, Any]:
        if self._report is None:
            if self.manifest is None:
                raise LookupError("a dry run made with dry_run_report=False kept no report")
            self._report = manifest_report(self.manifest)
        return self._report

    @property
    def summary(self) -> dict[str, Any]:
        """The report without its entries (reference, agreement, decision date, counts):
        read from the manifest row, so a caller that prints the counts holds no entry."""
        if self._summary is not None:
            return self._summary
        if self._report is not None:
            return {k: v for k, v in self._report.items() if k != "entries"}
        assert self.manifest is not None
        return manifest_summary(self.manifest)


class _DryRun(Exception):
    def __init__(self, report: dict[str, Any] | None, summary: dict[str, Any]) -> None:
        self.report = report
        self.summary = summary


def _chunks(it: Iterator[tuple[int, dict[str, str]]], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in it:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def quota_used(agreement: Agreement) -> int:
    """People held under the agreement now plus entries accepted and not yet admitted."""
    held = CustodyEpisode.objects.open().filter(agreement=agreement).count()
    accepted = ManifestEntry.objects.filter(
        manifest__agreement=agreement, status=EntryStatus.ACCEPTED
    ).count()
    return held + accepted


def _record_of(parsed: ParsedRow, sending: str) -> PersonRecord:
    dob, precision = parsed.date_of_birth
    return PersonRecord(
        ref=parsed.sending_ref,
        given_names=parsed.given_names,
        first_surname=parsed.first_surname,
        second_surname=parsed.second_surname,
        aliases=parsed.aliases,
        date_of_birth=dob,
        dob_precision=precision,
        sex=parsed.sex,
        nationalities=parsed.nationalities,
        identifiers=(f"{sending}:{parsed.sending_ref}",),
    )


def manifest_import(
    *,
    actor: Actor,
    data: bytes | Path | IO[bytes],
    agreement: Agreement,
    ref: str | None = None,
    filename: str = "",
    decided_on: dt.date | None = None,
    dry_run: bool = False,
    dry_run_report: bool = True,
) -> ImportResult:
    """Read, validate, match and decide a manifest (MANIFEST.md; STANDARDS.md transfer
    eligibility). A file-level problem refuses it whole (:class:`ManifestRefused`); the same
    reference or the same content again is recognised and nothing is stored twice.

    A dry run stores nothing, so its report is built before the rollback; with
    ``dry_run_report=False`` only its summary (the counts) is kept."""
    source = Source(data, name=filename)
    if ref is not None and not _REF.match(ref):
        raise ValidationFailed(MSG_REF_FORMAT)
    sha, _ = source.sha256_and_size()
    existing = _recognise(agreement, sha, ref)
    if existing is not None:
        return ImportResult(existing, True, dry_run)
    with _fewer_collections():
        checked = check_file(source)
        try:
            rules_for(agreement.policy, agreement.policy_options or {})
        except ValueError as exc:
            raise ValidationFailed(str(exc)) from None
        try:
            manifest = _import(
                actor=actor,
                source=source,
                checked=checked,
                agreement=agreement,
                ref=ref or _readable_ref(agreement, decided_on or timezone.localdate()),
                decided_on=decided_on or timezone.localdate(),
                dry_run=dry_run,
                dry_run_report=dry_run_report,
            )
        except _DryRun as done:
            return ImportResult(None, False, True, done.report, done.summary)
    return ImportResult(manifest, False, False)


def _readable_ref(agreement: Agreement, on: dt.date) -> str:
    """A reference people can read aloud and sort: the agreement, the day of decision and
    the manifest's number that day (``US-SV-2026-12-07-2``), not a hash."""
    stem = f"{re.sub(r'[^A-Za-z0-9._-]', '-', agreement.code)[:40]}-{on.isoformat()}"
    taken = set(Manifest.objects.filter(ref__startswith=stem).values_list("ref", flat=True))
    n = 1
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] | None = None
#: Allocations between two young-generation collections while an import runs (Python's
#: default is 700: an import allocates millions of short-lived tuples and dicts, and each
#: collection also walks the older objects it promotes into).
GC_YOUNG_THRESHOLD = 50_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector runs less often during an import (reference counting
    still frees everything that is not in a cycle); the previous thresholds come back when
    the last concurrent import ends."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(GC_YOUNG_THRESHOLD, _gc_saved[0]), *_gc_saved[1:])
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None


def _recognise(agreement: Agreement, sha: str, ref: str | None) -> Manifest | None:
    if ref is not None:
        found = Manifest.objects.filter(ref=ref).first()
        if found is not None:
            if found.content_sha256 != sha or found.agreement_id != agreement.pk:
                raise Conflict(MSG_REF_TAKEN.format(ref=ref))
            return found
    return Manifest.objects.filter(agreement=agreement, content_sha256=sha).first()


@service
def _import(
    *,
    actor: Actor,
    source: Source,
    checked: FileCheck,
    agreement: Agreement,
    ref: str,
    decided_on: dt.date,
    dry_run: bool,
    dry_run_report: bool = True,
) -> Manifest:
    Agreement.objects.select_for_update().filter(pk=agreement.pk).first()  # quota: one at a time
    if Manifest.objects.filter(ref=ref).exists():
        raise Conflict(MSG_REF_TAKEN.format(ref=ref))
    recorded = now()
    manifest = Manifest(
        ref=ref,
        agreement=agreement,
        content_sha256=checked.sha256,
        filename=(source.name or "")[:255],
        file_format=checked.fmt,
        rows=checked.rows,
        decided_on=decided_on,
        imported_at=recorded,
        imported_by=actor.name[:150],
    )
    manifest.save()
    options = dict(agreement.policy_options or {})
    rules = rules_for(agreement.policy, options)
    sending = agreement.sending.code
    populations = frozenset(
        Module.objects.filter(facility__agreements=agreement).values_list("population", flat=True)
    )
    quota = Quota(maximum=agreement.max_persons, used=quota_used(agreement))
    counts = dict.fromkeys(Decision.values, 0)
    pause_after = int(os.environ.get(PAUSE_ENV) or 0)
    for batch in _chunks(raw_rows(source, checked.fmt), CHUNK):
        if pause_after and sum(counts.values()) >= pause_after:
            _pause(manifest, sum(counts.values()))
            pause_after = 0
        _decide_batch(
            actor=actor,
            manifest=manifest,
            batch=batch,
            rules=rules,
            options=options,
            agreement=agreement,
            sending=sending,
            populations=populations,
            quota=quota,
            counts=counts,
        )
    manifest.eligible = counts["eligible"]
    manifest.needs_review = counts["needs_review"]
    manifest.ineligible = counts["ineligible"]
    manifest.save(update_fields=["eligible", "needs_review", "ineligible"])
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="transfers.manifest_imported",
                subject=f"manifest:{manifest.ref}",
                payload={
                    "manifest": {
                        "id": manifest.pk,
                        "ref": manifest.ref,
                        "agreement": agreement.code,
                        "sha256": manifest.content_sha256,
                        "filename": manifest.filename,
                        "format": manifest.file_format,
                        "imported_at": manifest.imported_at,
                        "imported_by": manifest.imported_by,
                        "rows": manifest.rows,
                        "decided_on": decided_on,
                        "counts": counts,
                    }
                },
            )
        ],
    )
    if dry_run:
        raise _DryRun(
            manifest_report(manifest) if dry_run_report else None, manifest_summary(manifest)
        )
    return manifest


@dataclass(slots=True)
class _Decided:
    """One decided entry on its way to the tables and the ledger (plain values: no model
    object per row)."""

    row: int
    sending_ref: str
    data: dict[str, str]
    given_names: str
    first_surname: str
    second_surname: str
    decision: str
    person: int | None
    same: bool
    score: float | None
    candidates: list[dict[str, Any]]
    results: list[RuleResult]
    pk: int = 0


#: The test hook of the module docstring.
PAUSE_ENV = "HABEAS_TEST_IMPORT_PAUSE_AFTER"
PAUSE_SECONDS = 600


def _pause(manifest: Manifest, rows: int) -> None:
    """Stop in the middle of an import (:data:`PAUSE_ENV`): report what the open transaction
    holds so far, then sleep until killed (or :data:`PAUSE_SECONDS`, then carry on)."""
    entries = ManifestEntry.objects.filter(manifest=manifest).count()
    sys.stderr.write(
        f"{PAUSE_ENV}: import of {manifest.ref} paused after {rows} rows, "
        f"{entries} entries stored in its open transaction\n"
    )
    sys.stderr.flush()
    time.sleep(PAUSE_SECONDS)


def _decide_batch(
    *,
    actor: Actor,
    manifest: Manifest,
    batch: list[tuple[int, dict[str, str]]],
    rules: Sequence[Any],
    options: dict[str, Any],
    agreement: Agreement,
    sending: str,
    populations: frozenset[str],
    quota: Quota,
    counts: dict[str, int],
) -> None:
    """Validate, match (the whole batch at once), decide, store and record one batch of
    rows, in the import's transaction."""
    validated = [(row, data, *validate_row(data)) for row, data in batch]
    parsed_rows = [p for _, _, p, _ in validated if p is not None]
    matches = registry_match_many([_record_of(p, sending) for p in parsed_rows])
    by_ref = {p.sending_ref: m for p, m in zip(parsed_rows, matches, strict=True)}
    top = {ref: int(m[0].ref) for ref, m in by_ref.items() if m}
    open_eps = dict(
        CustodyEpisode.objects.open()
        .filter(person_id__in=set(top.values()))
        .values_list("person_id", "pk")
    )
    steps = plan(rules)
    no_match = MatchInfo()
    ctx: Context | None = None
    decided: list[_Decided] = []
    for row, data, parsed, problems in validated:
        results = invalid_results(problems) if problems else []
        info = no_match
        candidates: list[dict[str, Any]] = []
        if parsed is not None:
            found = by_ref.get(parsed.sending_ref, [])
            candidates = [
                {
                    "person": m.ref,
                    "score": m.score,
                    "band": m.band,
                    "reasons": list(m.reasons),
                    "contributions": [list(c) for c in m.contributions],
                }
                for m in found[:5]
            ]
            if found:
                best = found[0]
                pid = int(best.ref)
                info = MatchInfo(
                    band=best.band,
                    person=pid,
                    score=best.score,
                    in_custody=pid in open_eps,
                    episode=open_eps.get(pid),
                )
            if ctx is None:
                ctx = Context(
                    row=parsed,
                    on=manifest.decided_on,
                    sending=sending,
                    receiving=agreement.receiving.code,
                    agreement_starts=agreement.starts,
                    agreement_ends=agreement.ends,
                    populations=populations,
                    match=info,
                    quota=quota,
                    options=options,
                )
            else:  # one context per batch: the rules only read it (the quota is shared)
                ctx.row = parsed
                ctx.match = info
            results += evaluate_plan(steps, ctx)
        decision = decide(results)
        counts[decision] += 1
        same = info.band == "same"
        decided.append(
            _Decided(
                row=row,
                sending_ref=data.get("sending_ref", "").strip(),
                data={k: v for k, v in data.items() if v != ""},
                given_names=data.get("given_names", "")[:200],
                first_surname=data.get("first_surname", "")[:200],
                second_surname=data.get("second_surname", "")[:200],
                decision=decision,
                person=info.person if same else None,
                same=same,
                score=info.score,
                candidates=candidates,
                results=results,
            )
        )
    _insert_entries(manifest, decided)
    ref = manifest.ref
    subject = f"manifest:{ref}"
    decided_on = manifest.decided_on
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="transfers.entry_decided",
                subject=subject,
                payload={
                    "entry": {
                        "id": d.pk,
                        "manifest": ref,
                        "row": d.row,
                        "sending_ref": d.sending_ref,
                        "data": d.data,
                        "given_names": d.given_names,
                        "first_surname": d.first_surname,
                        "second_surname": d.second_surname,
                        "decision": d.decision,
                        "decided_on": decided_on,
                        "person": d.person,
                        "matched_existing": d.same,
                        "match_score": d.score,
                        "candidates": d.candidates,
                        "rules": [
                            {
                                "rule": r.rule,
                                "outcome": r.outcome,
                                "message": r.message,
                                "message_es": r.message_es,
                                "source": r.source,
                            }
                            for r in d.results
                        ],
                    }
                },
            )
            for d in decided
        ],
    )


def _insert_entries(manifest: Manifest, decided: list[_Decided]) -> None:
    """Store a batch of entries and every rule outcome with two ``executemany`` inserts (the
    service's transaction; the rows are plain values, so neither a model object per row nor
    the ORM's per-field preparation is paid). The entries get their ids back (one read of
    the batch's rows)."""
    if not decided:
        return
    ops = connection.ops
    q = ops.quote_name
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    entry_table = q(ManifestEntry._meta.db_table)
    outcome_table = q(RuleOutcome._meta.db_table)
    manifest_id = manifest.pk
    decided_on = ops.adapt_datefield_value(manifest.decided_on)
    status = EntryStatus.DECIDED.value
    dumps = json.dumps
    rows = [
        (
            manifest_id,
            d.row,
            d.sending_ref,
            dumps(d.data),
            d.given_names,
            d.first_surname,
            d.second_surname,
            d.decision,
            decided_on,
            status,
            d.person,
            d.same,
            d.score,
            dumps(d.candidates),
            "",
            False,
        )
        for d in decided
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {entry_table} (manifest_id, {q('row')}, sending_ref, data, "  # noqa: S608
            "given_names, first_surname, second_surname, decision, decided_on, status, "
            "person_id, matched_existing, match_score, candidates, accepted_by, reviewed) "
            f"VALUES (%s, %s, %s, %s{jsonb}, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            f"%s{jsonb}, %s, %s)",
            rows,
        )
        cursor.execute(
            f"SELECT {q('row')}, id FROM {entry_table} "  # noqa: S608
            f"WHERE manifest_id = %s AND {q('row')} BETWEEN %s AND %s",
            [manifest_id, decided[0].row, decided[-1].row],
        )
        ids = dict(cursor.fetchall())
        for d in decided:
            d.pk = ids[d.row]
        cursor.executemany(
            f"INSERT INTO {outcome_table} (entry_id, position, rule, outcome, message, "  # noqa: S608
            "message_es, source) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (d.pk, i, r.rule, r.outcome, r.message, r.message_es, r.source)
                for d in decided
                for i, r in enumerate(d.results)
            ],
        )


# --- acceptance ---------------------------------------------------------------------------


def free_places(facilities: Sequence[Facility]) -> int:
    """Working capacity of the facilities' active cells, less the people held there and the
    entries accepted for them and not yet admitted (STANDARDS.md: working capacity is the
    hard cap)."""
    ids = [f.pk for f in facilities]
    capacity = sum(
        Cell.objects.filter(facility_id__in=ids, active=True).values_list(
            "working_capacity", flat=True
        )
    )
    held = Placement.objects.filter(cell__facility_id__in=ids, ended_at__isnull=True).count()
    pending = (
        ManifestEntry.objects.filter(
            status=EntryStatus.ACCEPTED, manifest__agreement__facilities__in=ids
        )
        .distinct()
        .count()
    )
    return capacity - held - pending


def facilities_locked(agreement: Agreement) -> list[Facility]:
    """The agreement's facilities, their rows locked (``SELECT … FOR UPDATE``) until the
    transaction ends: every acceptance that may take a place in one of them — under any
    agreement — waits here, so the places are counted by one transaction at a time and the
    last place goes to one of them only (working capacity is the hard cap, STANDARDS.md).
    Locked in id order, so two acceptances whose agreements share several facilities never
    hold one each while waiting for the other's. SQLite takes its write lock at the start of
    the transaction (IMMEDIATE), which serialises the same way."""
    return list(
        Facility.objects.select_for_update()
        .filter(pk__in=agreement.facilities.values("pk"))
        .order_by("pk")
    )


def lawful_shortfall(
    facilities: Sequence[Facility], chosen: Sequence[ManifestEntry], on: dt.date
) -> dict[str, int]:
    """The entries of ``chosen`` that no cell may lawfully take once the entries accepted and
    not yet admitted are housed, by population kind and regime (:mod:`habeas.transfers.places`)."""
    from habeas.transfers.places import occupant_of, unhoused

    ids = [f.pk for f in facilities]
    pending = (
        ManifestEntry.objects.filter(
            status=EntryStatus.ACCEPTED, manifest__agreement__facilities__in=ids
        )
        .distinct()
        .order_by("pk")
    )
    return dict(
        unhoused(
            facilities,
            [occupant_of(_parsed(e), on, e.person_id) for e in pending],
            [occupant_of(_parsed(e), on, e.person_id) for e in chosen],
        )
    )


@service
def manifest_accept(
    *,
    actor: Actor,
    manifest: Manifest,
    all_eligible: bool = False,
    only: Sequence[str] = (),
    at: dt.datetime | None = None,
) -> list[ManifestEntry]:
    """The receiving state accepts entries (``--all-eligible`` or ``--only``). An ineligible
    entry is never accepted; a needs-review entry only when named (a person reviewed it).
    Refused whole if it would exceed the agreement's quota (``max_persons``) or the working
    capacity of its facilities, counted under a lock on those facilities
    (:func:`facilities_locked`) so that two agreements sharing one cannot both take its last
    place."""
    at = at or now()
    agreement = Agreement.objects.select_for_update().get(pk=manifest.agreement_id)
    qs = ManifestEntry.objects.filter(manifest=manifest).select_for_update()
    chosen: list[ManifestEntry] = []
    if only:
        wanted = list(dict.fromkeys(r.strip() for r in only if r.strip()))
        found = {e.sending_ref: e for e in qs.filter(sending_ref__in=wanted)}
        missing = [r for r in wanted if r not in found]
        if missing:
            raise NotFound(MSG_NOT_DECIDED.format(refs=", ".join(missing), ref=manifest.ref))
        bad = [r for r in wanted if found[r].decision == Decision.INELIGIBLE]
        if bad:
            raise Conflict(MSG_INELIGIBLE.format(refs=", ".join(bad)))
        chosen += [found[r] for r in wanted if found[r].status == EntryStatus.DECIDED]
    if all_eligible:
        have = {e.pk for e in chosen}
        chosen += [
            e
            for e in qs.filter(decision=Decision.ELIGIBLE, status=EntryStatus.DECIDED)
            if e.pk not in have
        ]
    if not chosen:
        raise ValidationFailed(MSG_NOTHING)
    n = len(chosen)
    if agreement.max_persons is not None:
        used = quota_used(agreement)
        if used + n > agreement.max_persons:
            raise Conflict(
                MSG_QUOTA.format(
                    n=n, agreement=agreement.code, used=used, max=agreement.max_persons
                ),
                details={"quota": agreement.max_persons, "used": used, "requested": n},
            )
    facilities = facilities_locked(agreement)
    free = free_places(facilities)
    if n > free:
        raise Conflict(
            MSG_CAPACITY.format(
                n=n, facilities=", ".join(f.code for f in facilities), free=max(free, 0)
            ),
            details={"free": free, "requested": n},
        )
    short = lawful_shortfall(facilities, chosen, at.date())
    if short:
        raise Conflict(
            MSG_LAWFUL.format(
                n=n,
                facilities=", ".join(f.code for f in facilities),
                short="; ".join(f"{k} {label}" for label, k in sorted(short.items())),
            ),
            details={"requested": n, **{f"short {label}": k for label, k in short.items()}},
        )
    for e in chosen:
        e.status = EntryStatus.ACCEPTED
        e.accepted_at = at
        e.accepted_by = actor.name[:150]
        e.reviewed = e.decision == Decision.NEEDS_REVIEW
    ManifestEntry.objects.bulk_update(
        chosen, ["status", "accepted_at", "accepted_by", "reviewed"], batch_size=500
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="transfers.manifest_accepted",
                subject=f"manifest:{manifest.ref}",
                occurred_at=at,
                payload={
                    "manifest": manifest.ref,
                    "agreement": agreement.code,
                    "at": at,
                    "by": actor.name[:150],
                    "accepted": [
                        {"id": e.pk, "sending_ref": e.sending_ref, "reviewed": e.reviewed}
                        for e in chosen
                    ],
                },
            )
        ],
    )
    return chosen


MSG_WITHDRAW_REASON = "withdrawing an acceptance needs a reason"
MSG_NOT_WITHDRAWABLE = "entries {refs} are not accepted entries waiting for admission"


@service
def acceptance_withdraw(
    *,
    actor: Actor,
    manifest: Manifest,
    only: Sequence[str],
    reason: str,
    at: dt.datetime | None = None,
) -> list[ManifestEntry]:
    """The receiving state withdraws its acceptance of entries not yet admitted (ETS 112
    art. 3(1)(f): the receiving state's agreement): they are decided again and their places
    given back; the reason is on the ledger (``transfers.acceptance_withdrawn``)."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(MSG_WITHDRAW_REASON)
    at = at or now()
    wanted = list(dict.fromkeys(r.strip() for r in only if r.strip()))
    if not wanted:
        raise ValidationFailed(MSG_NOTHING)
    found = {
        e.sending_ref: e
        for e in ManifestEntry.objects.select_for_update().filter(
            manifest=manifest, sending_ref__in=wanted, status=EntryStatus.ACCEPTED
        )
    }
    missing = [r for r in wanted if r not in found]
    if missing:
        raise Conflict(MSG_NOT_WITHDRAWABLE.format(refs=", ".join(missing)))
    chosen = [found[r] for r in wanted]
    for e in chosen:
        e.status = EntryStatus.DECIDED
        e.accepted_at = None
        e.accepted_by = ""
        e.reviewed = False
    ManifestEntry.objects.bulk_update(
        chosen, ["status", "accepted_at", "accepted_by", "reviewed"], batch_size=500
    )
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="transfers.acceptance_withdrawn",
                subject=f"manifest:{manifest.ref}",
                occurred_at=at,
                payload={
                    "manifest": manifest.ref,
                    "agreement": manifest.agreement.code,
                    "at": at,
                    "by": actor.name[:150],
                    "reason": reason,
                    "withdrawn": [{"id": e.pk, "sending_ref": e.sending_ref} for e in chosen],
                },
            )
        ],
    )
    return chosen


# --- admission ----------------------------------------------------------------------------


def bases_of(parsed: ParsedRow, sending: str) -> list[LegalBasisSpec]:
    """The commitment orders of a manifest row (Mandela Rule 7(b))."""
    bases = []
    if parsed.has_sentence:
        bases.append(
            LegalBasisSpec(
                kind="criminal_sentence",
                ref=parsed.sending_ref,
                authority=sending,
                status_in_sending_state=parsed.status_in_sending_state,
                offence=parsed.offence,
                conviction_date=parsed.conviction_date,
                judgment_final=parsed.judgment_final,
                sentence=parsed.sentence,
                sentence_start=parsed.sentence_start,
                custody_credit_days=parsed.custody_credit_days,
                consent=parsed.consent,
            )
        )
    if parsed.has_removal_order:
        bases.append(
            LegalBasisSpec(
                kind="removal_order",
                ref=parsed.removal_order_ref,
                authority=sending,
                status_in_sending_state=parsed.status_in_sending_state,
                order_date=parsed.removal_order_date,
                removal_protection=parsed.removal_protection,
                consent=parsed.consent,
            )
        )
    return bases


def _commitment(parsed: ParsedRow, sending: str) -> tuple[str, str]:
    parts = []
    if parsed.has_sentence:
        parts.append(
            f"criminal sentence {parsed.sentence} for {parsed.offence} "
            f"(convicted {parsed.conviction_date}, from {parsed.sentence_start})"
        )
    if parsed.has_removal_order:
        parts.append(f"removal order {parsed.removal_order_ref} of {parsed.removal_order_date}")
    return "; ".join(parts), sending


def record_snapshot(record: AdmissionRecord) -> dict[str, Any]:
    return {
        "id": record.pk,
        "episode": record.episode_id,
        "person": record.episode.person_id,
        "version": record.version,
        "updated_at": record.updated_at,
        "gender_identity": record.gender_identity,
        "commitment_reason": record.commitment_reason,
        "commitment_authority": record.commitment_authority,
        "arrest_at": record.arrest_at,
        "arrest_place": record.arrest_place,
        "visible_injuries": record.visible_injuries,
        "ill_treatment_complaint": record.ill_treatment_complaint,
        "property_items": record.property_items,
        "family": record.family,
        "contact": {
            "name": record.contact_name,
            "relation": record.contact_relation,
            "phone": record.contact_phone,
            "email": record.contact_email,
        },
        "rights_language": record.rights_language,
        "rights_informed_at": record.rights_informed_at,
        "completed_at": record.completed_at,
    }


def notification_snapshot(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "episode": n.episode_id,
        "person": n.episode.person_id,
        "kind": n.kind,
        "country": n.country,
        "recipient": n.recipient,
        "language": n.language,
        "queued_at": n.queued_at,
        "payload": n.payload,
    }


def _parsed(entry: ManifestEntry) -> ParsedRow:
    parsed, _ = validate_row({k: str(v) for k, v in entry.data.items()})
    if parsed is None:  # decided ineligible: cannot have been accepted
        raise ValidationFailed(f"entry {entry.sending_ref} is not a valid row")
    return parsed


@service
def manifest_admit(
    *,
    actor: Actor,
    manifest: Manifest,
    arrived_at: dt.datetime,
    facility: Facility | None = None,
    only: Sequence[str] = (),
    cells: Mapping[str, str] | None = None,
) -> list[CustodyEpisode]:
    """Admit the accepted entries of a manifest that arrived (Mandela Rule 7): the person
    (the registry record when matched, else a new one), the custody episode with its legal
    bases and placement (the housing rules choose the cell, or check the cell staff chose:
    ``cells`` maps a ``sending_ref`` to a cell code), the admission record with what
    the manifest says (b, c, g and the rights language), a consular notification per foreign
    nationality (VCCR art. 36(1)(b); Rule 62) and a family notification (Rule 68)."""
    agreement = manifest.agreement
    if facility is None:
        facilities = list(agreement.facilities.all())
        if len(facilities) != 1:
            raise ValidationFailed(MSG_FACILITY.format(agreement=agreement.code))
        facility = facilities[0]
    qs = ManifestEntry.objects.select_for_update().filter(
        manifest=manifest, status=EntryStatus.ACCEPTED
    )
    if only:
        qs = qs.filter(sending_ref__in=list(only))
    entries = list(qs.order_by("row"))
    if not entries:
        raise ValidationFailed(MSG_NOTHING_TO_ADMIT.format(ref=manifest.ref))
    sending = agreement.sending.code
    parsed = {e.pk: _parsed(e) for e in entries}

    # People: the registry record when matched, otherwise a new one.
    new = [e for e in entries if e.person_id is None]
    new_ids = {e.pk for e in new}
    specs = [
        PersonSpec(
            given_names=parsed[e.pk].given_names,
            first_surname=parsed[e.pk].first_surname,
            second_surname=parsed[e.pk].second_surname,
            aliases=parsed[e.pk].aliases,
            sex=parsed[e.pk].sex,
            nationalities=parsed[e.pk].nationalities,
            date_of_birth=parsed[e.pk].date_of_birth[0],
            dob_precision=parsed[e.pk].date_of_birth[1],
            language=parsed[e.pk].language,
            identifiers=[Identifier(authority=sending, value=e.sending_ref)],
        )
        for e in new
    ]
    for e, person in zip(
        new, person_create_many(actor=actor, specs=specs, occurred_at=arrived_at), strict=True
    ):
        e.person = person
    matched_ids = [e.person_id for e in entries if e.pk not in new_ids]
    people = {p.pk: p for p in Person.objects.filter(pk__in=matched_ids)}
    for e in entries:
        if e.pk not in new_ids:
            e.person = people[e.person_id]
    _identifiers_for_matched(
        actor, [e for e in entries if e.pk not in new_ids], sending, arrived_at
    )
    _keep_apart(actor, manifest, entries, parsed, sending, arrived_at)

    admissions = []
    for e in entries:
        p = parsed[e.pk]
        reason, authority = _commitment(p, sending)
        admissions.append(
            AdmissionSpec(
                person=e.person,
                legal_bases=bases_of(p, sending),
                admitted_at=arrived_at,
                cell_code=(cells or {}).get(e.sending_ref) or None,
                extra={
                    "manifest": manifest.ref,
                    "sending_ref": e.sending_ref,
                    "commitment_reason": reason,
                    "commitment_authority": authority,
                    "rights_language": p.language or "es",
                },
            )
        )
    episodes = admit_and_place_many(
        actor=actor, facility=facility, agreement=agreement, admissions=admissions
    )
    recorded = now()
    records = []
    notes: list[Notification] = []
    receiving = agreement.receiving.code
    for e, ep in zip(entries, episodes, strict=True):
        p = parsed[e.pk]
        reason, authority = _commitment(p, sending)
        records.append(
            AdmissionRecord(
                episode=ep,
                commitment_reason=reason,
                commitment_authority=authority,
                contact_name=p.contact_name,
                contact_relation=p.contact_relation,
                contact_phone=p.contact_phone,
                contact_email=p.contact_email,
                rights_language=p.language or "es",
                updated_at=recorded,
            )
        )
        for country in p.nationalities:
            if country != receiving:
                notes.append(
                    Notification(
                        episode=ep,
                        kind=NotificationKind.CONSULAR,
                        country=country,
                        recipient=f"consulate of {country}",
                        language=p.language,
                        queued_at=recorded,
                        payload={
                            "person": e.person_id,
                            "facility": facility.code,
                            "admitted_at": arrived_at.isoformat(),
                            "on_request": True,
                        },
                    )
                )
        notes.append(
            Notification(
                episode=ep,
                kind=NotificationKind.FAMILY,
                recipient=" / ".join(
                    x for x in (p.contact_name, p.contact_phone, p.contact_email) if x
                ),
                language=p.language,
                queued_at=recorded,
                payload={
                    "person": e.person_id,
                    "facility": facility.code,
                    "admitted_at": arrived_at.isoformat(),
                    "relation": p.contact_relation,
                },
            )
        )
    records = AdmissionRecord.objects.bulk_create(records, batch_size=500)
    notes = Notification.objects.bulk_create(notes, batch_size=500)
    for e, ep in zip(entries, episodes, strict=True):
        e.status = EntryStatus.ADMITTED
        e.episode = ep
    ManifestEntry.objects.bulk_update(entries, ["status", "episode", "person"], batch_size=500)
    events = [
        Event(
            action="transfers.admission_recorded",
            subject=f"person:{ep.person_id}",
            occurred_at=arrived_at,
            payload={"manifest": manifest.ref, "entry": e.pk, "record": record_snapshot(r)},
        )
        for r, ep, e in zip(records, episodes, entries, strict=True)
    ]
    events += [
        Event(
            action="transfers.notification_queued",
            subject=f"person:{n.payload['person']}",
            occurred_at=arrived_at,
            payload={"notification": notification_snapshot(n)},
        )
        for n in notes
    ]
    ledger_append_many(actor=actor, events=events)
    return episodes


MSG_UNHOUSED = (
    "no cell in {facility} may lawfully take this person now ({group}): every cell for their "
    "population kind and regime is at working capacity or refused by a separation or "
    "keep-apart rule"
)
MSG_NOT_ACCEPTED = "not an accepted entry of this manifest waiting for admission"


@dataclass(frozen=True)
class NotHoused:
    """An entry left accepted, and why, in words (Mandela Rule 11)."""

    sending_ref: str
    reason: str


@dataclass(frozen=True)
class AdmitOutcome:
    episodes: list[CustodyEpisode]
    not_housed: list[NotHoused]


@service
def manifest_admit_each(
    *,
    actor: Actor,
    manifest: Manifest,
    arrived_at: dt.datetime,
    facility: Facility | None = None,
    only: Sequence[str] = (),
) -> AdmitOutcome:
    """Admission per entry (INTERFACES.md v1.1, ``admit --only``): the accepted entries (or
    those named) that a cell of the facility may lawfully take are admitted by
    :func:`manifest_admit`; each other one stays accepted and is reported by its
    ``sending_ref`` with the reason (Mandela Rule 11; working capacity the hard cap). A named
    reference that is not an accepted entry is reported too."""
    from habeas.housing.allocator import Allocator
    from habeas.transfers.places import group_label, occupant_of

    agreement = manifest.agreement
    if facility is None:
        facilities = list(agreement.facilities.all())
        if len(facilities) != 1:
            raise ValidationFailed(MSG_FACILITY.format(agreement=agreement.code))
        facility = facilities[0]
    qs = ManifestEntry.objects.select_for_update().filter(
        manifest=manifest, status=EntryStatus.ACCEPTED
    )
    wanted = list(dict.fromkeys(r.strip() for r in only if r.strip()))
    if wanted:
        qs = qs.filter(sending_ref__in=wanted)
    entries = list(qs.order_by("row"))
    found = {e.sending_ref for e in entries}
    not_housed = [NotHoused(r, MSG_NOT_ACCEPTED) for r in wanted if r not in found]
    if not entries:
        if not_housed:
            return AdmitOutcome([], not_housed)
        raise ValidationFailed(MSG_NOTHING_TO_ADMIT.format(ref=manifest.ref))
    allocator = Allocator(facility)
    housable: list[str] = []
    for e in entries:
        who = occupant_of(_parsed(e), arrived_at.date(), e.person_id)
        cell = allocator.choose(who)
        if cell is None:
            not_housed.append(
                NotHoused(
                    e.sending_ref,
                    MSG_UNHOUSED.format(facility=facility.code, group=group_label(who)),
                )
            )
        else:
            allocator.take(cell, who)
            housable.append(e.sending_ref)
    episodes = (
        manifest_admit(
            actor=actor, manifest=manifest, arrived_at=arrived_at, facility=facility, only=housable
        )
        if housable
        else []
    )
    return AdmitOutcome(episodes, not_housed)


def arrival_record_initial(entry: ManifestEntry) -> dict[str, Any]:
    """What admission writes in the Rule 7 record from the manifest row ((b), (g) and the
    rights language), for the arrival form to start from."""
    parsed = _parsed(entry)
    reason, authority = _commitment(parsed, entry.manifest.agreement.sending.code)
    return {
        "commitment_reason": reason,
        "commitment_authority": authority,
        "contact_name": parsed.contact_name,
        "contact_relation": parsed.contact_relation,
        "contact_phone": parsed.contact_phone,
        "contact_email": parsed.contact_email,
        "rights_language": parsed.language or "es",
    }


def arrival_occupant(entry: ManifestEntry, on: dt.date) -> Any:
    """The housing view of an accepted entry on the day of arrival (sex, age group, regime,
    untried: Mandela Rule 11), for the cell suggestion."""
    from habeas.transfers.places import occupant_of

    return occupant_of(_parsed(entry), on, entry.person_id)


@service
def entry_arrive(
    *,
    actor: Actor,
    manifest: Manifest,
    sending_ref: str,
    arrived_at: dt.datetime,
    facility: Facility,
    cell_code: str = "",
    record: Mapping[str, Any] | None = None,
    complete: bool = False,
) -> CustodyEpisode:
    """One person's arrival, as reception records it at the gate (Mandela Rule 7): the
    accepted entry admitted at ``arrived_at`` into the cell staff chose (checked against
    every housing rule, Mandela Rule 11) or the one the rules suggest, and the Rule 7 record
    completed with what was seen and said on arrival (``record``: the fields of
    :func:`admission_record_update`; ``complete`` marks the examination of (d) done). One
    transaction: when the record is refused, nobody is admitted."""
    entry = ManifestEntry.objects.filter(manifest=manifest, sending_ref=sending_ref).first()
    if entry is None or entry.status != EntryStatus.ACCEPTED:
        raise Conflict(MSG_NOT_ACCEPTED)
    (episode,) = manifest_admit(
        actor=actor,
        manifest=manifest,
        arrived_at=arrived_at,
        facility=facility,
        only=[sending_ref],
        cells={sending_ref: cell_code} if cell_code else None,
    )
    if record or complete:
        admission_record_update(
            actor=actor,
            record=AdmissionRecord.objects.get(episode=episode),
            complete=complete,
            **dict(record or {}),
        )
    return episode


def _identifiers_for_matched(
    actor: Actor, entries: list[ManifestEntry], sending: str, at: dt.datetime
) -> None:
    """A matched person keeps the manifest's reference too (one identity, every name)."""
    wanted = {(sending, e.sending_ref): e for e in entries}
    if not wanted:
        return
    taken = set(
        PersonIdentifier.objects.filter(
            authority=sending, kind="sending_ref", value__in=[v for _, v in wanted]
        ).values_list("authority", "value")
    )
    person_identifiers_add(
        actor=actor,
        occurred_at=at,
        identifiers=[
            (e.person_id, Identifier(authority=a, value=v, kind="sending_ref"))
            for (a, v), e in wanted.items()
            if (a, v) not in taken and e.person_id is not None
        ],
    )


def _keep_apart(
    actor: Actor,
    manifest: Manifest,
    entries: list[ManifestEntry],
    parsed: dict[int, ParsedRow],
    sending: str,
    at: dt.datetime,
) -> None:
    """A manifest's ``keep_apart_from``: opened as cell-scope keep-apart records before the
    placement, so the housing rules can respect them."""
    try:
        from habeas.housing.models import KeepApart
        from habeas.housing.services import KeepApartSpec, keep_apart_open_many
    except ImportError:  # pragma: no cover - older facilities app
        return
    refs = {r for e in entries for r in parsed[e.pk].keep_apart_from}
    if not refs:
        return
    by_ref: dict[str, Person] = {e.sending_ref: e.person for e in entries if e.person is not None}
    for ident in PersonIdentifier.objects.filter(
        authority=sending, value__in=refs - set(by_ref)
    ).select_related("person"):
        by_ref[ident.value] = ident.person
    pairs: dict[tuple[int, int], KeepApartSpec] = {}
    for e in entries:
        for other_ref in parsed[e.pk].keep_apart_from:
            other = by_ref.get(other_ref)
            if other is None or e.person is None or other.pk == e.person.pk:
                continue
            key = (min(e.person.pk, other.pk), max(e.person.pk, other.pk))
            pairs.setdefault(
                key,
                KeepApartSpec(
                    person=e.person,
                    other=other,
                    scope="cell",
                    reason=f"manifest {manifest.ref}: keep_apart_from {other_ref}",
                    source="manifest",
                    source_ref=manifest.ref,
                ),
            )
    if not pairs:
        return
    open_pairs = set(
        KeepApart.objects.open()
        .filter(Q(person_a_id__in=[a for a, _ in pairs]) & Q(person_b_id__in=[b for _, b in pairs]))
        .values_list("person_a_id", "person_b_id")
    )
    specs = [s for k, s in pairs.items() if k not in open_pairs]
    if specs:
        keep_apart_open_many(actor=actor, specs=specs, at=at)


# --- the admission form -------------------------------------------------------------------

RECORD_FIELDS = (
    "gender_identity",
    "commitment_reason",
    "commitment_authority",
    "arrest_at",
    "arrest_place",
    "visible_injuries",
    "ill_treatment_complaint",
    "property_items",
    "family",
    "contact_name",
    "contact_relation",
    "contact_phone",
    "contact_email",
    "rights_language",
    "rights_informed_at",
)


@service
def admission_record_update(
    *, actor: Actor, record: AdmissionRecord, complete: bool = False, **fields: Any
) -> AdmissionRecord:
    """Complete or correct the Rule 7 record after arrival (a new version each time, the
    previous one stays on the ledger). ``complete`` marks (d) as examined."""
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown admission record fields: {', '.join(sorted(unknown))}")
    record = AdmissionRecord.objects.select_for_update().get(pk=record.pk)
    for name, value in fields.items():
        setattr(record, name, value)
    if not record.rights_language:
        raise ValidationFailed("Mandela Rules 54-55: the language of the rights information")
    record.version += 1
    record.updated_at = now()
    if complete and record.completed_at is None:
        record.completed_at = record.updated_at
    record.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="transfers.admission_recorded",
                subject=f"person:{record.episode.person_id}",
                payload={"record": record_snapshot(record)},
            )
        ],
    )
    return record


__all__ = [
    "ImportResult",
    "ManifestRefused",
    "Problem",
    "admission_record_update",
    "entry_arrive",
    "manifest_accept",
    "manifest_admit",
    "manifest_import",
]


def manifest_report(manifest: Manifest) -> dict[str, Any]:
    """The ``import-manifest --report`` document (INTERFACES.md)."""
    from habeas.transfers.selectors import manifest_report as report

    return report(manifest)


def manifest_summary(manifest: Manifest) -> dict[str, Any]:
    """The ``import-manifest --report`` document without its entries."""
    from habeas.transfers.selectors import manifest_summary as summary

    return summary(manifest)
