"""Who may do what: the one place that says which role may read or change what (ARCHITECTURE.md,
users; Mandela Rule 9: access on a need-to-know basis).

Every view, API handler, selector, queryset, template tag and service asks one of these
predicates instead of comparing a role itself (``tests/test_role_checks.py`` scans ``src/``
for role checks anywhere else). The predicates take any user object — a
:class:`~habeas.accounts.models.User`, Django's ``AnonymousUser`` — and answer ``False`` (or an
empty :class:`Scope`) for anyone not signed in. Scope is by code, so this module stays below the
domain apps: each app's ``visible_to(user)`` turns :func:`scope_of` into its own lookups.

The roles:

* facility staff and admins: their facilities (codes), and may change housing there;
* a sending state's liaison: only the people their own state sent (never a hint of anyone
  else), the agreements, manifests and facilities their state is party to; no cells;
* finance: the people held under any agreement their state is party to, as sending or
  receiving state (invoices on both sides); no cells, no admission record;
* oversight and auditors (and superusers): read everything, change nothing;
* inspectors of a registered inspection body: read what oversight reads, for the facilities
  of their body's mandate (codes, like facility roles; Mandela Rule 84(1)(a): access to all
  information about the prisoners, places and treatment there), and work their inspections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from habeas.accounts.choices import Role
from habeas.core.actor import Actor

#: The role of the command line and of background work (``Actor.cli``, ``Actor.system``):
#: the server's own operator.
SYSTEM_ROLE = "system"

_READ_EVERYTHING = frozenset({Role.OVERSIGHT, Role.AUDITOR})
_FACILITY_ROLES = frozenset({Role.FACILITY_STAFF, Role.FACILITY_ADMIN})
#: Roles whose scope is a list of facility codes: the facility's own people and inspectors.
_FACILITY_SCOPED = _FACILITY_ROLES | {Role.INSPECTOR}
_STATE_ROLES = frozenset({Role.LIAISON, Role.FINANCE})
#: Roles that see facility and module totals but not cells or who is in them (Rules 9, 10).
_NO_CELL_ROLES = _STATE_ROLES
#: Actors who may certify cells, take them out of use and override keep-apart records.
_FACILITY_ADMIN_ACTORS = frozenset({Role.FACILITY_ADMIN, SYSTEM_ROLE})


def _role(user: Any) -> str:
    return str(getattr(user, "role", "") or "")


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _superuser(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False))


def _facility_codes(user: Any) -> list[str]:
    return list(getattr(user, "facility_codes", None) or [])


# --- roles and scope ---------------------------------------------------------------------------


def has_role(user: Any) -> bool:
    """An account with a role, or a superuser. An account without one has no scope, so there is
    nothing it may read (Rule 9); the API answers it 403, the alerts page too."""
    return bool(_role(user) or _superuser(user))


def sees_everything(user: Any) -> bool:
    """Oversight monitors and auditors read across every scope; so do superusers."""
    return _signed_in(user) and (_superuser(user) or _role(user) in _READ_EVERYTHING)


def is_facility_user(user: Any) -> bool:
    """Facility staff and facility admins: the receiving prison's own people."""
    return _signed_in(user) and _role(user) in _FACILITY_ROLES


def role_scoped_to_state(role: str) -> bool:
    """Liaison and finance are scoped by one state (a jurisdiction code)."""
    return role in _STATE_ROLES


def role_scoped_to_facilities(role: str) -> bool:
    """Facility staff and admins are scoped by facility codes; so are inspectors (the
    facilities of their body's mandate)."""
    return role in _FACILITY_SCOPED


def is_inspector(user: Any) -> bool:
    """A member of a registered inspection body (OPCAT art. 4; Mandela Rule 83)."""
    return _signed_in(user) and _role(user) == Role.INSPECTOR


@dataclass(frozen=True)
class Scope:
    """What a user may see, by code (NetBox ``restrict``; HOUSE-STYLE: every selector starts
    from ``visible_to(user)``). At most one of ``everything``, ``facility_codes`` and
    ``state`` is set; none set means nothing."""

    everything: bool = False
    #: Facility staff and admins: the facilities they work in.
    facility_codes: list[str] | None = None
    #: Liaison and finance: their state (ISO 3166 alpha-2).
    state: str | None = None
    #: Liaison: people and custody episodes only where ``state`` is the sending state (finance
    #: also sees those its state receives). Agreements, facilities and manifests of the state
    #: are seen from either side.
    people_sent_only: bool = False


def scope_of(user: Any) -> Scope:
    """The user's scope: oversight, auditors and superusers everything; facility roles their
    facilities; liaison and finance their state; anyone else (no role, not signed in)
    nothing."""
    if not _signed_in(user):
        return Scope()
    if sees_everything(user):
        return Scope(everything=True)
    if is_facility_user(user) or is_inspector(user):
        return Scope(facility_codes=_facility_codes(user))
    role = _role(user)
    if role in _STATE_ROLES:
        return Scope(
            state=str(getattr(user, "jurisdiction_code", "")),
            people_sent_only=role == Role.LIAISON,
        )
    return Scope()


def works_in(user: Any, facility_codes: Any) -> bool:
    """A facility user who works in at least one of ``facility_codes``."""
    return is_facility_user(user) and bool(set(facility_codes) & set(_facility_codes(user)))


# --- cells, housing, absences ------------------------------------------------------------------


def may_view_cells(user: Any) -> bool:
    """Cells, cell-mates, absences and housing alerts are the receiving prison's business
    (and oversight's); a sending state's liaison or finance officer sees where, not in which
    cell (Mandela Rules 9 and 10)."""
    return _signed_in(user) and (sees_everything(user) or _role(user) not in _NO_CELL_ROLES)


def may_view_housing(user: Any) -> bool:
    """The housing pages (boards, cells, moves, keep-aparts, rolls): facility roles and
    oversight; everyone else gets the same 404 as a missing page."""
    return is_facility_user(user) or sees_everything(user) or is_inspector(user)


def may_manage_housing(user: Any) -> bool:
    """Moves, keep-apart records, roll counts and cell changes: the facility's staff and
    admins; oversight and auditors only read (the facility itself is checked by scope)."""
    return is_facility_user(user)


def may_override_keep_apart(user: Any) -> bool:
    """A facility admin may override a module- or facility-scope keep-apart refusal, with a
    reason on the ledger (never any other rule)."""
    return _signed_in(user) and _role(user) == Role.FACILITY_ADMIN


def may_administer_facility(actor: Actor) -> bool:
    """Certifying a cell, taking it out of use or back, overriding a keep-apart record: a
    facility admin, or the server's own operator (the command line, STANDARDS.md)."""
    return actor.role in _FACILITY_ADMIN_ACTORS


def may_record_absence(user: Any) -> bool:
    """Temporary absences (court, hospital) are recorded by the facility's staff and admins;
    oversight reads them."""
    return is_facility_user(user)


# --- alerts ------------------------------------------------------------------------------------


def may_acknowledge_alerts(user: Any) -> bool:
    """The receiving facility's own staff and director act on alerts; oversight and auditors
    read them, a sending state's liaison sees only legal-basis alerts and cannot answer for
    the prison."""
    return is_facility_user(user)


def may_acknowledge_alert(user: Any, facility_code: str) -> bool:
    """:func:`may_acknowledge_alerts`, for a facility they work in."""
    return works_in(user, [facility_code])


# --- transfers ---------------------------------------------------------------------------------


def may_view_transfers(user: Any) -> bool:
    """The transfers pages: every role but finance (which reads invoices, not manifests)."""
    return (_role(user) not in {Role.FINANCE, ""}) or _superuser(user)


def may_import_manifests(user: Any) -> bool:
    """Who may upload a manifest at all: the sending state's liaison or the receiving
    facility's staff (checked per agreement by :func:`may_import_manifest`). Finance,
    oversight and auditors only read (ARCHITECTURE.md users)."""
    return _superuser(user) or is_facility_user(user) or _role(user) == Role.LIAISON


def is_receiving_staff(user: Any, facility_codes: Any) -> bool:
    """The staff of a facility an agreement covers (``facility_codes``), or a superuser: they
    accept manifest entries and import for the receiving side."""
    return _superuser(user) or works_in(user, facility_codes)


def may_import_manifest(user: Any, *, sending_state: str, facility_codes: Any) -> bool:
    """A manifest of an agreement: the liaison of its sending state, or its receiving
    facility's staff (:func:`is_receiving_staff`)."""
    if _role(user) == Role.LIAISON and getattr(user, "jurisdiction_code", "") == sending_state:
        return True
    return is_receiving_staff(user, facility_codes)


def may_accept_manifests(user: Any) -> bool:
    """Whether the decision table offers acceptance: facility roles and superusers (each
    acceptance is checked again against the agreement's facilities)."""
    return is_facility_user(user) or _superuser(user)


def may_read_admission_record(user: Any) -> bool:
    """The Rule 7 admission record holds injuries, ill-treatment complaints and family
    contacts: never for finance officers (Mandela Rule 9, need to know); the rest by scope."""
    return _role(user) != Role.FINANCE or _superuser(user)


def may_read_admission_details(user: Any) -> bool:
    """Injuries, ill-treatment complaints and relatives' contacts in the Rule 7 record: the
    receiving facility's staff and oversight. A sending state's liaison sees that the record
    exists and whether it is complete, never these (the complaint may be about the sending
    state's own agents: Mandela Rules 7(d), 9, 57(1))."""
    return _signed_in(user) and (
        sees_everything(user) or is_facility_user(user) or is_inspector(user) or _superuser(user)
    )


def may_edit_admission_record(user: Any) -> bool:
    """The facility's staff complete the admission record; the other roles only read."""
    return _superuser(user) or is_facility_user(user)


# --- outside contact ---------------------------------------------------------------------------


def may_read_contacts(user: Any) -> bool:
    """Visitors, visits, calls and letters (Mandela Rules 58-62): the receiving facility's
    staff and oversight. A sending state's liaison or finance officer never sees who visited
    or wrote (relatives' contacts, a lawyer's or a consulate's visit: Rules 9, 61); the liaison
    sees the ``no_contact`` alarm of the people their state sent, as any alarm."""
    return may_read_admission_details(user)


def may_record_contacts(user: Any) -> bool:
    """Booking and recording visits, logging calls and letters, restricting contact: the
    facility's staff and admins (in the facilities they work in), and superusers."""
    return _superuser(user) or is_facility_user(user)


# --- oversight ---------------------------------------------------------------------------------


def may_read_oversight(user: Any) -> bool:
    """The oversight pages and the access log (Mandela Rules 9, 83-85): oversight monitors
    and auditors, and superusers."""
    return sees_everything(user)


def access_log_role(user: Any) -> str:
    """The role written into the access log beside a view: the user's role, ``superuser`` for
    a superuser without one."""
    role = _role(user)
    if not role and _superuser(user):
        return "superuser"
    return role


def reader_key(user: Any) -> str:
    """What a user may read depends on, as text: their role and their scope. Two users with
    the same key read the same things (caches of computed reads are kept per key)."""
    return f"{access_log_role(user)}|{scope_of(user)!r}"


def role_label(user: Any) -> str:
    """The user's role as the header shows it."""
    role = _role(user)
    if _superuser(user) and not role:
        return _("Administrator")
    try:
        return str(Role(role).label)
    except ValueError:
        return _("No role")


class ScopeLookups:
    """How a scoped user reaches the rows of a lower app's model through a higher app's
    relations (ARCHITECTURE.md, Layout: no lookup string reaches into a higher app). The
    higher app registers a function from a :class:`Scope` to a ``Q`` over the lower model (or
    ``None``: nothing by this way); the lower model's ``visible_to`` ORs them."""

    def __init__(self) -> None:
        self._lookups: list[Callable[[Scope], Q | None]] = []

    def register(self, fn: Callable[[Scope], Q | None]) -> Callable[[Scope], Q | None]:
        if fn not in self._lookups:
            self._lookups.append(fn)
        return fn

    def where(self, scope: Scope) -> Q | None:
        found = [q for q in (fn(scope) for fn in self._lookups) if q is not None]
        if not found:
            return None
        where = found[0]
        for q in found[1:]:
            where |= q
        return where


# --- billing -----------------------------------------------------------------------------------


def may_issue_invoices(user: Any, *, receiving_state: str) -> bool:
    """Invoices and correction notes are issued, and payments recorded, by the finance
    officers of the state that bills: the receiving state of the agreement (STANDARDS.md,
    Billing). Everyone else in scope reads them."""
    if _superuser(user):
        return True
    return (
        _signed_in(user)
        and _role(user) == Role.FINANCE
        and getattr(user, "jurisdiction_code", "") == receiving_state
    )


def may_reconcile(user: Any) -> bool:
    """A month's reconciliation lists everyone billed under the agreement, by name: the
    finance officers and liaisons of its parties (scoped to their agreements), oversight,
    auditors and superusers; not facility staff (Mandela Rule 9)."""
    return sees_everything(user) or (_signed_in(user) and _role(user) in _STATE_ROLES)


# --- inspections (OPCAT arts. 4, 14, 20; Mandela Rules 83-85) ---------------------------------


def may_view_inspections(user: Any) -> bool:
    """Inspections, their findings and recommendations: the inspection body's inspectors
    (their facilities), oversight and auditors; the facility's own people see the findings
    addressed to their facility (never who was interviewed)."""
    return sees_everything(user) or is_inspector(user) or is_facility_user(user)


def may_view_interviews(user: Any) -> bool:
    """Who was interviewed in private by inspectors (a reprisal risk: OPCAT art. 21(1),
    Mandela Rule 84(1)(d)): the inspection body and oversight only, never facility staff."""
    return sees_everything(user) or is_inspector(user)


def may_conduct_inspections(user: Any) -> bool:
    """Logging a visit's arrival, interviews, findings, recommendations, follow-up, closure
    and publishing the report: the inspection body's inspectors (OPCAT art. 20)."""
    return is_inspector(user)


def may_admit_inspectors(user: Any) -> bool:
    """Recording at the gate that the inspectors were admitted, delayed or refused (with a
    reason): the facility's staff and admins (OPCAT art. 14(2))."""
    return is_facility_user(user)


def may_respond_to_findings(user: Any) -> bool:
    """The administration's response to each recommendation (Mandela Rule 85(2)): the
    facility admin (the director or whom they appoint)."""
    return _signed_in(user) and _role(user) == Role.FACILITY_ADMIN


# --- incidents, sanctions, complaints ----------------------------------------------------------


def is_oversight(user: Any) -> bool:
    """An oversight monitor (or a superuser): the only readers of confidential complaints and
    of the retaliation alert (Mandela Rules 56(3), 57(2); OPCAT art. 21(1))."""
    return _signed_in(user) and (_superuser(user) or _role(user) == Role.OVERSIGHT)


def may_view_incidents(user: Any) -> bool:
    """Incidents name injuries and the people involved: the facility's own staff (their
    facilities) and oversight; never a sending state's liaison or finance officer, nor the
    ledger auditor (Mandela Rule 9, need to know)."""
    return is_facility_user(user) or is_oversight(user)


def may_record_incidents(user: Any) -> bool:
    """Incidents, sanctions, reports to the authority and notices to next of kin are recorded
    by the facility's staff and director; oversight reads them."""
    return is_facility_user(user)


def may_view_complaints(user: Any) -> bool:
    """Complaints and requests (Mandela Rules 56-57): the facility's staff see those that are
    not confidential, oversight all; the liaison, finance and the auditor none (the complaint
    may be about the sending state's own agents, Rule 57(1))."""
    return is_facility_user(user) or is_oversight(user)


def may_view_confidential_complaints(user: Any) -> bool:
    """A confidential complaint (Rule 56(3): to the inspectors, without staff present) is
    oversight's only, in every list, count, search, export and API."""
    return is_oversight(user)


def may_file_complaints(user: Any) -> bool:
    """Staff register a complaint or request for a person (Rule 56(1)); oversight registers
    one received in confidence (Rule 56(3)); the others do not file."""
    return is_facility_user(user) or is_oversight(user)


# --- homes -------------------------------------------------------------------------------------

#: The home page of each kind of user (``/`` shows it): the facility dashboard for the
#: facility's people and inspectors, a sending state's own page for its liaison and for
#: finance, the ledger and alerts for oversight monitors and auditors.
HOME_DASHBOARD = "dashboard"
HOME_LIAISON = "liaison"
HOME_FINANCE = "finance"
HOME_MONITOR = "monitor"


def home_of(user: Any) -> str:
    """Which home ``/`` shows ``user``: a liaison their state's people, manifests and
    releases (VCCR art. 36; Mandela Rule 7); finance their agreements' invoices; oversight
    monitors, auditors and superusers the alerts and the ledger (Mandela Rules 6, 83-85);
    everyone else the facility dashboard."""
    role = _role(user)
    if role == Role.LIAISON:
        return HOME_LIAISON
    if role == Role.FINANCE:
        return HOME_FINANCE
    if may_read_oversight(user):
        return HOME_MONITOR
    return HOME_DASHBOARD


def may_view_home(user: Any, home: str) -> bool:
    """A role's home is for that role (its figures are read in its scope); the monitor's home
    also for superusers, who read everything."""
    if home == HOME_MONITOR:
        return may_read_oversight(user)
    return _signed_in(user) and home_of(user) == home


def may_verify_ledger(user: Any) -> bool:
    """The ledger verification page and the signed checkpoint's download: oversight
    monitors, auditors and superusers (Mandela Rule 6: proof that no record was changed)."""
    return may_read_oversight(user)


def may_use_admin(user: Any) -> bool:
    """Django's admin is linked for accounts marked as staff of the site."""
    return _signed_in(user) and bool(getattr(user, "is_staff", False))
