"""Person registry (Mandela Rule 7(a): unique identity).

Names are stored exactly as the sending state wrote them (any script, accents kept) and always
rendered escaped. A partial date of birth keeps its precision: ``1990`` is stored as
1990-01-01 with precision ``year`` and shown as ``1990``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from habeas.accounts.permissions import ScopeLookups, scope_of
from habeas.core.services import ServiceModel, ServiceQuerySet
from habeas.people.choices import DatePrecision, Sex

if TYPE_CHECKING:
    from habeas.accounts.models import User


#: How a scoped user reaches people: through their custody, which lives in an app above this
#: one; ``habeas.custody.models`` registers the lookup.
PERSON_SCOPE = ScopeLookups()


class PersonQuerySet(ServiceQuerySet):
    def visible_to(self, user: User | Any) -> PersonQuerySet:
        """Scope (ARCHITECTURE.md roles; NetBox ``restrict``): oversight and auditors see
        everyone; the other roles the people their scope reaches through custody
        (:data:`PERSON_SCOPE`); nobody else anyone."""
        scope = scope_of(user)
        if scope.everything:
            return self
        where = PERSON_SCOPE.where(scope)
        return self.none() if where is None else self.filter(where).distinct()


#: What is shown for a person whose personal data was erased (``habeas erase``).
ERASED_NAME = _("(personal data erased)")


class Person(ServiceModel):
    """One human being in the registry, whatever the number of names and identifiers."""

    given_names = models.CharField(_("given names"), max_length=200)
    first_surname = models.CharField(_("first surname"), max_length=200)
    second_surname = models.CharField(_("second surname"), max_length=200, blank=True)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    dob_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    nationalities = models.JSONField(_("nationalities"), default=list)
    language = models.CharField(_("language"), max_length=8, blank=True)
    created_at = models.DateTimeField()
    #: Set by erasure (``habeas erase``): the names, date of birth, aliases and identifiers are
    #: gone, the custody facts stay (ARCHITECTURE.md, "Personal data and the ledger").
    erased_at = models.DateTimeField(null=True, blank=True)
    # The blocking keys the registry matcher searches (habeas.people.matching.search_keys),
    # filled by person_create_many: derived from the fields above, never edited on their own.
    match_key_a = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    match_key_gd = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    match_key_d1 = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    match_key_d2 = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    match_key_p = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    match_key_y1 = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    match_key_y2 = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # The staff search's words (habeas.people.names.search_text): transliterated keys of the
    # names and aliases and their consonant skeletons, space-separated and space-framed.
    name_keys = models.TextField(blank=True, default="", editable=False)

    objects = PersonQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        indexes = [
            models.Index(fields=["first_surname", "given_names"]),
            # Staff search's order by name, capitals folded (habeas.web.search): a page of
            # 50 is read from the index instead of sorting every person in scope.
            models.Index(
                Lower("first_surname"),
                Lower("second_surname"),
                Lower("given_names"),
                F("id"),
                name="person_name_folded",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        if self.erased_at is not None:
            return str(ERASED_NAME)
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)

    @property
    def sorted_name(self) -> str:
        """``Surnames, given names``, as lists show a person."""
        if self.erased_at is not None:
            return str(ERASED_NAME)
        surnames = " ".join(p for p in (self.first_surname, self.second_surname) if p)
        return f"{surnames}, {self.given_names}"

    @property
    def date_of_birth_display(self) -> str:
        return format_partial_date(self.date_of_birth, self.dob_precision)


def format_partial_date(value: dt.date | None, precision: str) -> str:
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{value.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


class PersonIdentifier(ServiceModel):
    """An identifier issued by an authority: a sending state's reference (A-number, register
    number) is ``authority = <ISO country code>``, ``kind = sending_ref``."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="identifiers")
    authority = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, default="sending_ref")
    value = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "kind", "value"], name="identifier_unique_per_authority"
            )
        ]
        indexes = [models.Index(fields=["value"])]

    def __str__(self) -> str:
        return f"{self.authority}:{self.kind}:{self.value}"
