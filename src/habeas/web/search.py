"""Staff search: the people the user may see, by name (the locator's folding, through
``habeas.people.selectors.person_list``), narrowed by reference, cell, nationality, legal basis
and custody status, sorted by any column and read one page at a time.

Every column is computed in the database from the user's scoped rows (``visible_to``): the
facility and admission of the open episode, the current cell (only for users who may see
cells, Mandela Rule 9) and the status. A page is one query for the count and one for the
rows, whatever the registry's size; names sort case-insensitively so that names written in
capitals sort with the others.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.db.models import (
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from habeas.custody.choices import BasisStatus, LegalBasisKind
from habeas.custody.models import CustodyEpisode, LegalBasis, TemporaryAbsence
from habeas.housing.models import Placement
from habeas.people.models import Person, PersonIdentifier
from habeas.people.selectors import person_search

#: Status values of the search (``status`` filter and column).
HELD, AWAY, RELEASED, NEVER = "held", "away", "released", "never"
STATUS_LABELS = {
    HELD: _("In custody"),
    AWAY: _("Temporarily away"),
    RELEASED: _("Released"),
    NEVER: _("Not admitted"),
}
#: The ``basis`` filter's value for people held with no commitment order in force.
NO_BASIS = "none"

#: Sort keys offered by the column headers: ``key`` ascending, ``-key`` descending.
SORTS = ("name", "dob", "nationality", "status", "facility", "cell", "admitted")


@dataclass(frozen=True)
class SearchFilters:
    """One staff search as typed: free text plus the filters (empty means any)."""

    query: str = ""
    reference: str = ""
    cell: str = ""
    nationality: str = ""
    basis: str = ""
    status: str = ""
    sort: str = "name"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(
            self.query
            or self.reference
            or self.cell
            or self.nationality
            or self.basis
            or self.status
        )


def _order(sort: str, show_cells: bool) -> list[Any]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS or (key == "cell" and not show_cells):
        key, descending = "name", False
    columns: dict[str, list[Any]] = {
        "name": [Lower("first_surname"), Lower("second_surname"), Lower("given_names")],
        "dob": [F("date_of_birth")],
        "nationality": [F("nationalities")],
        "status": [F("status_order")],
        "facility": [F("facility_code")],
        "cell": [F("cell_code")],
        "admitted": [F("admitted_at")],
    }
    # Names are never NULL: ordered without NULLS LAST, the order is the one of the
    # ``person_name_folded`` index, and a page is read from it instead of a sort.
    nulls = {} if key == "name" else {"nulls_last": True}
    ordering = [expr.desc(**nulls) if descending else expr.asc(**nulls) for expr in columns[key]]
    return [*ordering, F("pk").asc()]


def _scope_ids(user: Any) -> tuple[str, list[int]] | None:
    """The user's episode scope as ``(field, ids)`` (``None``: everything), read once per
    request (kept on the request's user object)."""
    from habeas.accounts.permissions import scope_of
    from habeas.agreements.models import Agreement
    from habeas.facilities.models import Facility

    cached = getattr(user, "_staff_search_scope", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    scope = scope_of(user)
    found: tuple[str, list[int]] | None
    if scope.everything:
        found = None
    elif scope.facility_codes is not None:
        facilities = Facility.objects.filter(code__in=scope.facility_codes)
        found = ("facility_id", list(facilities.values_list("pk", flat=True)))
    elif scope.state is not None:
        agreements = Agreement.objects.filter(sending__code=scope.state)
        if not scope.people_sent_only:
            agreements = agreements | Agreement.objects.filter(receiving__code=scope.state)
        found = ("agreement_id", list(agreements.values_list("pk", flat=True)))
    else:
        found = ("pk", [])
    with contextlib.suppress(AttributeError):
        user._staff_search_scope = found
    return found


def _episode_scope(user: Any, prefix: str = "") -> Q:
    """``CustodyEpisode.objects.visible_to(user)`` as plain id lists (facilities or
    agreements), so that each correlated subquery below is an index lookup by person rather
    than a join into the scope for every row."""
    found = _scope_ids(user)
    if found is None:
        return Q()
    field, ids = found
    return Q(**{f"{prefix}{field}__in": ids})


def _people_scope(user: Any, *, name_index: bool = False) -> Q:
    """The people ``user`` may see (:meth:`PersonQuerySet.visible_to`: those with an
    episode in the user's scope) as ``pk IN (person ids of the scoped episodes)``.

    ``name_index``: as ``id + 0 IN (…)``, for a page in name order: the database may then
    not look every person of the scope up by primary key and sort them all, and reads the
    page from the ``person_name_folded`` index instead, testing each row against the set
    (full demo, SQLite: 34 → 10 ms of CPU for the first page's ids)."""
    found = _scope_ids(user)
    if found is None:
        return Q()
    field, ids = found
    if field == "pk":
        return Q(pk__in=[])
    scoped = CustodyEpisode.objects.filter(**{f"{field}__in": ids}).order_by().values("person_id")
    if name_index:
        return Q(In(ExpressionWrapper(F("pk") + 0, output_field=IntegerField()), scoped))
    return Q(pk__in=scoped)


def _columns(user: Any, show_cells: bool) -> dict[str, Any]:
    """The computed columns: the open episode's facility, its zone and the admission, the
    status and (``show_cells``) the current cell, each a subquery on the user's scoped
    episodes."""
    scoped = _episode_scope(user)
    scoped_via = _episode_scope(user, "episode__")
    open_episodes = CustodyEpisode.objects.filter(
        scoped, person=OuterRef("pk"), released_at__isnull=True
    ).order_by("-admitted_at")
    status = _status(user)
    columns: dict[str, Any] = {
        "facility_code": Subquery(open_episodes.values("facility__code")[:1]),
        "facility_tz": Subquery(open_episodes.values("facility__timezone")[:1]),
        "admitted_at": Subquery(open_episodes.values("admitted_at")[:1]),
        "status": status,
    }
    if show_cells:
        placements = Placement.objects.filter(
            scoped_via,
            episode__person=OuterRef("pk"),
            episode__released_at__isnull=True,
            ended_at__isnull=True,
        )
        columns["cell_code"] = Subquery(placements.values("cell__code")[:1])
    return columns


def _id_sets(user: Any) -> tuple[Any, Any, Any]:
    """The ids of the people with an open episode, with an open absence, with any episode
    (in the user's scope): non-correlated subqueries, each computed once per query."""
    scoped = _episode_scope(user)
    open_ids = CustodyEpisode.objects.filter(scoped, released_at__isnull=True).values("person_id")
    away_ids = TemporaryAbsence.objects.filter(
        _episode_scope(user, "episode__"),
        episode__released_at__isnull=True,
        ended_at__isnull=True,
    ).values("episode__person_id")
    any_ids = CustodyEpisode.objects.filter(scoped).values("person_id")
    return open_ids, away_ids, any_ids


def _status(user: Any, *, order: bool = False) -> Case:
    open_ids, away_ids, any_ids = _id_sets(user)
    values = (0, 1, 2, 3) if order else (HELD, AWAY, RELEASED, NEVER)
    return Case(
        When(pk__in=away_ids, then=Value(values[1])),
        When(pk__in=open_ids, then=Value(values[0])),
        When(pk__in=any_ids, then=Value(values[2])),
        default=Value(values[3]),
        output_field=IntegerField() if order else CharField(),
    )


def _status_filter(user: Any, status: str) -> Q:
    open_ids, away_ids, any_ids = _id_sets(user)
    if status == HELD:
        return Q(pk__in=open_ids) & ~Q(pk__in=away_ids)
    if status == AWAY:
        return Q(pk__in=away_ids)
    if status == RELEASED:
        return Q(pk__in=any_ids) & ~Q(pk__in=open_ids)
    return ~Q(pk__in=any_ids)


class CountedPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator told its count (:func:`result_count`) instead of counting the result."""

    def __init__(self, object_list: Any, per_page: int, *, known: int) -> None:
        super().__init__(object_list, per_page)
        self.known = known

    @cached_property
    def count(self) -> int:
        return self.known


#: The computed column each sort key needs.
_SORT_NEEDS = {"status": "status", "facility": "facility_code", "cell": "cell_code",
               "admitted": "admitted_at"}  # fmt: skip


def staff_search(
    *,
    user: Any,
    filters: SearchFilters,
    show_cells: bool,
    columns: bool = False,
) -> QuerySet[Person]:
    """The people ``user`` may see matching ``filters``, in the order asked for. Only the
    computed columns a filter or the order needs are computed for every match; the page's
    rows get the others from :func:`with_columns` (``columns=True`` computes them all, for
    an export)."""
    # The scope (``Person.objects.visible_to``: the people with an episode the user may
    # see) as one non-correlated set of person ids, computed once per query, rather than a
    # join into episodes that needs DISTINCT over every row before counting or sorting.
    name_index = not filters.query and filters.sort.lstrip("-") == "name"
    qs = person_search(
        Person.objects.filter(_people_scope(user, name_index=name_index)), filters.query
    )
    computed = _columns(user, show_cells)
    key = filters.sort.lstrip("-")
    needed = set(computed) if columns else set()
    if key in _SORT_NEEDS and key != "status":
        needed.add(_SORT_NEEDS[key])
    qs = qs.annotate(**{name: computed[name] for name in computed if name in needed})
    if key == "status":
        qs = qs.annotate(status_order=_status(user, order=True))
    if show_cells and filters.cell:
        qs = qs.filter(
            pk__in=Placement.objects.filter(
                _episode_scope(user, "episode__"),
                ended_at__isnull=True,
                episode__released_at__isnull=True,
                cell__code__iexact=filters.cell,
            ).values("episode__person_id")
        )
    if filters.reference:
        ref = filters.reference
        by_ref = Q(
            Exists(PersonIdentifier.objects.filter(person=OuterRef("pk"), value__istartswith=ref))
        ) | Q(Exists(LegalBasis.objects.filter(person=OuterRef("pk"), ref__istartswith=ref)))
        if ref.isdigit() and len(ref) < 12:
            by_ref |= Q(pk=int(ref))  # the registry id
        qs = qs.filter(by_ref)
    if filters.nationality:
        qs = qs.filter(nationalities__icontains=f'"{filters.nationality.upper()}"')
    if filters.basis:
        in_force = LegalBasis.objects.filter(person=OuterRef("pk"), status=BasisStatus.ACTIVE)
        if filters.basis == NO_BASIS:
            open_ids = _id_sets(user)[0]
            qs = qs.filter(~Exists(in_force), pk__in=open_ids)
        elif filters.basis in LegalBasisKind.values:
            qs = qs.filter(Exists(in_force.filter(kind=filters.basis)))
    if filters.status in STATUS_LABELS:
        qs = qs.filter(_status_filter(user, filters.status))
    return qs.order_by(*_order(filters.sort, show_cells))


def with_columns(user: Any, people: list[Person], show_cells: bool) -> list[Person]:
    """``people`` (one page, in its order) with every computed column, in one query."""
    ids = [p.pk for p in people]
    columns = _columns(user, show_cells)
    del columns["status"]  # from the page's own episodes, not id sets of the whole scope
    by_pk = {
        p.pk: p
        for p in Person.objects.filter(pk__in=ids)
        .annotate(**columns)
        .prefetch_related("identifiers")
    }
    statuses = _page_status(user, ids)
    for p in by_pk.values():
        p.status = statuses.get(p.pk, NEVER)
    return [by_pk[p.pk] for p in people if p.pk in by_pk]


def _page_status(user: Any, ids: list[int]) -> dict[int, str]:
    """The status of the people ``ids`` (one page) from their episodes and absences in the
    user's scope (the ``status`` column of :func:`_columns`, for a few rows). The episodes
    are read by person and the scope applied here: a scope filter in the query would let
    SQLite walk the whole facility's episodes instead of the few people's."""
    scope = _scope_ids(user)
    field, allowed = scope if scope is not None else ("", [])
    permitted = set(allowed)
    found: dict[int, str] = {}
    episodes = CustodyEpisode.objects.filter(person_id__in=ids).order_by()
    open_ids = []
    for pk, person_id, released_at, facility_id, agreement_id in episodes.values_list(
        "pk", "person_id", "released_at", "facility_id", "agreement_id"
    ):
        value = {"facility_id": facility_id, "agreement_id": agreement_id}.get(field, pk)
        if scope is not None and value not in permitted:
            continue
        if released_at is None:
            found[person_id] = HELD
            open_ids.append(pk)
        else:
            found.setdefault(person_id, RELEASED)
    away = TemporaryAbsence.objects.filter(episode_id__in=open_ids, ended_at__isnull=True)
    for person_id in away.order_by().values_list("episode__person_id", flat=True):
        found[person_id] = AWAY
    return found


def nationality_choices(user: Any) -> list[str]:
    """The nationalities held by the people the user may see (ISO 3166-1 alpha-2), for the
    filter's list: computed once per version of the registry and reader
    (:func:`habeas.ledger.freshness.cached_document`; a person's nationalities change only
    through a service, which makes a new version), not on every request."""
    from habeas.ledger.freshness import cached_document
    from habeas.web.attention import reader_cache_key

    codes: list[str] = cached_document(
        f"staff-search-nationalities:{reader_cache_key(user)}",
        lambda: _nationalities(user),
        version=_version(user),
        shared=False,
    )
    return codes


def _version(user: Any) -> str:
    """The registry's version (:func:`habeas.ledger.freshness.registry_version`), read once
    per request (kept on the request's user object) for the cached list and count."""
    from habeas.ledger.freshness import registry_version

    found = getattr(user, "_staff_search_version", None)
    if found is None:
        found = registry_version()
        with contextlib.suppress(AttributeError):
            user._staff_search_version = found
    return str(found)


def result_count(user: Any, filters: SearchFilters, show_cells: bool, people: Any) -> int:
    """How many people ``people`` (:func:`staff_search` for ``filters``) holds, counted once
    per version of the registry, reader and filters (kept in this process: every change of a
    person, an episode, a placement or an order goes through a service and makes a new
    version), so that paging and sorting one result do not count it again."""
    from habeas.ledger.freshness import cached_document
    from habeas.web.attention import reader_cache_key

    wanted = (filters.query, filters.reference, filters.cell, filters.nationality,
              filters.basis, filters.status, show_cells)  # fmt: skip
    digest = hashlib.sha256(repr(wanted).encode()).hexdigest()[:24]
    count: int = cached_document(
        f"staff-search-count:{reader_cache_key(user)}:{digest}",
        lambda: people.order_by().count(),
        version=_version(user),
        shared=False,
    )
    return count


def _nationalities(user: Any) -> list[str]:
    """:func:`nationality_choices` computed: one pass over the distinct stored lists, not
    over the people."""
    codes: set[str] = set()
    people = Person.objects.filter(_people_scope(user))
    lists = people.order_by().values_list("nationalities", flat=True).distinct()
    for value in lists:
        if isinstance(value, list):
            codes.update(str(c).upper() for c in value if c)
    return sorted(codes)
