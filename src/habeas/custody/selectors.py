"""Reads of custody state, scoped to the user; the person's file (Mandela Rules 7-9)."""

from __future__ import annotations

from typing import Any

from habeas.accounts.permissions import may_view_cells
from habeas.core import alarms
from habeas.core.canonical import plain
from habeas.core.errors import NotFound
from habeas.custody.absences import absence_brief
from habeas.custody.calculations import current_calculation
from habeas.custody.cells import current_cell
from habeas.custody.models import CustodyEpisode, EpisodeQuerySet, LegalBasis
from habeas.custody.release import full_term_less_credit
from habeas.ledger.models import LedgerEntry
from habeas.people.models import Person


def episode_list(*, user: Any, open_only: bool = False) -> EpisodeQuerySet:
    qs = CustodyEpisode.objects.visible_to(user).select_related("person", "facility", "agreement")
    if open_only:
        qs = qs.open()
    return qs.order_by("-admitted_at", "-pk")


def episode_get_for(*, user: Any, episode_id: int) -> CustodyEpisode:
    episode = episode_list(user=user).filter(pk=episode_id).first()
    if episode is None:
        raise NotFound("custody episode not found")
    return episode


def basis_ends_on(basis: LegalBasis) -> Any:
    """The full term less prior custody credit (18 U.S.C. § 3585(b)), as stored."""
    if basis.kind != "criminal_sentence":
        return None
    if basis.ends_on is None and basis.pk is None and basis.sentence and basis.sentence_start:
        try:  # a basis not yet recorded: what recording it will store
            return full_term_less_credit(
                basis.sentence, basis.sentence_start, basis.custody_credit_days
            )
        except ValueError:
            return None
    return basis.ends_on


def release_date(person: Person) -> Any:
    """The projected release date of the open episode, from its current calculation under the
    agreement's rule set (:mod:`habeas.custody.calculations`); ``None`` when the person is held
    on a removal order only, for life, or not held."""
    episode = CustodyEpisode.objects.open().filter(person=person).first()
    if episode is None:
        return None
    calc = current_calculation(episode)
    return calc.release_date if calc is not None else None


def person_history(person: Person) -> list[LedgerEntry]:
    """The person's history as the ledger records it (not as the tables say now)."""
    return list(LedgerEntry.objects.filter(subject=f"person:{person.pk}").order_by("index"))


def person_file(person: Person, *, user: Any = None) -> dict[str, Any]:
    """The ``show --json`` document (INTERFACES.md), with the open alarms the conditions app
    reports through :mod:`habeas.core.alarms`.

    With ``user``, the file as that user may see it (Mandela Rule 9, need-to-know): the
    receiving prison service and oversight see the whole custody history of a person they may
    see; a sending state's liaison or finance officer only the episodes under their state's
    agreements, the legal bases behind them, and no cell. Without ``user``: the whole file
    (the CLI on the server itself).
    """
    episode_qs = CustodyEpisode.objects.filter(person=person)
    bases_qs = LegalBasis.objects.filter(person=person)
    if user is not None and not may_view_cells(user):
        episode_qs = episode_qs.filter(pk__in=CustodyEpisode.objects.visible_to(user))
        bases_qs = bases_qs.filter(episodes__in=episode_qs).distinct()
    episodes = list(episode_qs.select_related("facility", "agreement").order_by("admitted_at"))
    bases = list(bases_qs.order_by("pk"))
    cell = current_cell(person)
    if user is not None and not may_view_cells(user):
        cell = None
    return plain(
        {
            "id": str(person.pk),
            "sending_refs": [i.value for i in person.identifiers.all() if i.kind == "sending_ref"],
            "names": {
                "given_names": person.given_names,
                "first_surname": person.first_surname,
                "second_surname": person.second_surname,
                "aliases": list(person.aliases),
            },
            "date_of_birth": person.date_of_birth_display or None,
            "sex": person.sex,
            "nationalities": list(person.nationalities),
            "legal_bases": [
                {
                    "kind": b.kind,
                    "ref": b.ref,
                    "authority": b.authority,
                    "offence": b.offence or None,
                    "sentence": b.sentence or None,
                    "sentence_start": b.sentence_start,
                    "custody_credit_days": b.custody_credit_days,
                    "ends_on": basis_ends_on(b),
                    "status": b.status,
                    "ended_on": b.ended_on,
                    "supersedes": str(b.supersedes_id) if b.supersedes_id else None,
                    "good_conduct_forfeited_days": b.credit_forfeited_days,
                    "removal_protection": b.removal_protection,
                    "id": str(b.pk),
                }
                for b in bases
            ],
            "custody": [
                {
                    "facility": e.facility.code,
                    "agreement": e.agreement.code if e.agreement else None,
                    "admitted_at": e.admitted_at,
                    "released_at": e.released_at,
                    "release_reason": e.release_reason or None,
                    "release_destination": e.release_destination or None,
                }
                for e in episodes
            ],
            "cell": cell.code if cell else None,
            "release_date": release_date(person),
            "alarms": alarms.for_person(person),
            # Extension (INTERFACES.md allows new keys): where the person is while out of
            # the facility (court, hospital...), hidden like the cell from liaison/finance.
            "absence": absence_brief(person) if user is None or may_view_cells(user) else None,
        }
    )


def releases_due(*, user: Any, days: int = 30, today: Any = None) -> list[dict[str, Any]]:
    """Open episodes whose projected release date falls in the next ``days`` days, as
    ``user`` may see them (a liaison: their own state's transferees), soonest first: what
    the receiving prison must prepare and the sending state must know (VINE's advance notice
    of release)."""
    import datetime as dt

    from django.db.models import Max

    from habeas.core.clock import now
    from habeas.custody.models import ReleaseCalculation

    start = today or now().date()
    end = start + dt.timedelta(days=days)
    # Only the calculations falling in the window leave the database (a handful, not one per
    # person held); each counts if it is its episode's latest (the (episode, -id) index) and
    # the episode is open and in the user's scope (checked on those episodes alone).
    candidates = list(
        ReleaseCalculation.objects.filter(release_date__gte=start, release_date__lte=end)
        .order_by()
        .values_list("pk", "episode_id", "release_date")
    )
    if not candidates:
        return []
    episode_ids = {ep for _pk, ep, _r in candidates}
    newest = dict(
        ReleaseCalculation.objects.filter(episode_id__in=episode_ids)
        .order_by()
        .values("episode_id")
        .annotate(last=Max("pk"))
        .values_list("episode_id", "last")
    )
    due = {ep: r for pk, ep, r in candidates if newest.get(ep) == pk}
    episodes = CustodyEpisode.objects.visible_to(user).open().filter(pk__in=list(due))
    rows = []
    for e in episodes.select_related("person", "facility", "agreement__sending").order_by("pk"):
        rows.append(
            {
                "release_date": due[e.pk],
                "person": e.person,
                "person_id": e.person_id,
                "name": e.person.full_name,
                "facility": e.facility.code,
                "agreement": e.agreement.code if e.agreement else "",
                "sending_state": e.agreement.sending.code if e.agreement else "",
            }
        )
    rows.sort(key=lambda r: (r["release_date"], r["facility"], r["person_id"]))
    return rows


def release_warnings(person: Person, *, reason: str, at: Any, destination: str = "") -> list[str]:
    """What a release would get wrong without being unlawful, in words, for a confirmation
    (Mandela Rule 7(c); 18 U.S.C. § 3624(a)): a ``sentence_served`` release before the
    projected release date, or where no date is computed; a return to another state with no
    destination country."""
    from django.utils.translation import gettext as _

    warnings: list[str] = []
    if reason == "sentence_served":
        due = release_date(person)
        if due is None:
            warnings.append(
                _("No release date is computed for this person: check that the sentence is served.")
            )
        elif at.date() < due:
            warnings.append(
                _("The projected release date is %(date)s: this release is %(days)s days early.")
                % {"date": due.isoformat(), "days": (due - at.date()).days}
            )
    if reason in ("repatriated", "returned_to_sending_state") and not destination.strip():
        warnings.append(_("No destination country is given for a return to another state."))
    return warnings
