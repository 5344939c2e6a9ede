"""Oversight tables: the access log (Mandela Rules 6 and 9) and the locator's search index.

Neither is a domain model (``ServiceModel``): nothing here says who is held, where or why.

* ``AccessLog`` is a *security record*: who opened which person's file, when, with which role
  and through which channel. It is append-only in the database (migration 0002 installs the
  same UPDATE/DELETE-refusing triggers as the ledger) but it is deliberately **not** on the
  ledger: reads happen on every page view, and one Merkle leaf per read would grow the ledger
  without bound and bury the events Habeas answers for (admissions, moves, releases).
* ``LocatorToken`` / ``LocatorVariant`` are a derived, rebuildable search index for the
  public locator (one row per normalised name token, blocked by nationality and year of
  birth, and the deletion variants of the tokens for the one-typo search), kept in step with
  the ``people.*`` ledger events by a listener run in the appending transaction
  (``events.py``), so that a search only reads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from habeas.oversight.choices import AccessChannel, AccessQuery


class AccessLog(models.Model):
    """One view of a person's file by a user (Mandela Rule 9: records are need-to-know, so
    every access is recorded; Rule 6: an audit trail against unauthorised access).

    ``username`` and ``role`` are copied at the time of the view: a later change of role must
    not rewrite who looked with which authority."""

    viewed_at = models.DateTimeField(_("viewed at"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    username = models.CharField(_("user"), max_length=150)
    role = models.CharField(_("role"), max_length=32, blank=True)
    #: The person whose file was opened; empty for a probe of the registry (``query``).
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    channel = models.CharField(_("channel"), max_length=8, choices=AccessChannel.choices)
    #: A dry run or a matching call (:class:`AccessQuery`); empty for a file view.
    query = models.CharField(
        _("query"), max_length=16, choices=AccessQuery.choices, blank=True, default=""
    )
    #: What was probed: the agreement, file and rows of a dry run; the people a matching call
    #: answered with (only those in the caller's scope are ever answered).
    subject = models.CharField(_("subject"), max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-viewed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) | ~models.Q(query=""),
                name="accesslog_file_or_query",
            )
        ]
        indexes = [
            models.Index(fields=["person", "viewed_at"], name="accesslog_person_time"),
            models.Index(fields=["username", "viewed_at"], name="accesslog_user_time"),
            models.Index(fields=["viewed_at"], name="accesslog_time"),
        ]

    def __str__(self) -> str:
        if self.query:
            return f"{self.username} ran {self.query} {self.subject} ({self.channel})"
        return f"{self.username} viewed person {self.person_id} ({self.channel})"

    @property
    def role_label(self) -> str:
        from habeas.accounts.choices import Role

        try:
            return str(Role(self.role).label)
        except ValueError:
            return self.role


class LocatorToken(models.Model):
    """One normalised name word of a person (a row per occurrence), blocked by (nationality,
    birth year): the locator probes ``(token, nationality, birth_year)`` for each searched
    word and each indexed word one typo away from it (found in ``LocatorVariant``), so a
    search reads only the rows of its own block and words and costs the same at 1,000 or
    1,000,000 people (INTERFACES.md ``locate``). The same index, by its ``token`` prefix,
    serves the server-side search without nationality or year."""

    person_id = models.BigIntegerField()
    nationality = models.CharField(max_length=3)
    birth_year = models.SmallIntegerField(null=True)  # unknown: found by reference only
    token = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(
                fields=["token", "nationality", "birth_year", "person_id"],
                name="locator_token_block",
            ),
            models.Index(fields=["person_id"], name="locator_person"),
        ]

    def __str__(self) -> str:
        return f"{self.nationality}/{self.birth_year}/{self.token} → {self.person_id}"


class LocatorVariant(models.Model):
    """The typo key of the locator index: one row per token of the index (of 4 letters or
    more) and each of its *deletion variants* (the token itself and the token less one letter).
    Two words are one insertion, deletion, substitution or adjacent transposition apart only
    if they share a deletion variant, so the search finds every indexed word within one typo
    of a searched one with a handful of probes here (symmetric deletion, as in SymSpell)
    instead of hundreds of guessed spellings in ``LocatorToken``. Grows with the vocabulary of
    names, not with the number of people; a word no longer in use is a harmless extra probe."""

    variant = models.CharField(max_length=64)
    token = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "token"], name="locator_variant_token"),
        ]

    def __str__(self) -> str:
        return f"{self.variant} → {self.token}"


class PopulationTally(models.Model):
    """What one open custody episode adds to the population statistics (Mandela Rule 10):
    its facility, the person's sex and nationalities, the kinds of its legal bases and its
    agreement. Derived: kept by :mod:`habeas.oversight.tally` in the transaction of every
    event that changes one of them, so that a change can be taken out of
    :class:`PopulationCount` exactly as it was put in. A row per open episode; none for a
    released one."""

    episode_id = models.BigIntegerField(primary_key=True)
    person_id = models.BigIntegerField()
    facility_id = models.BigIntegerField()
    sex = models.CharField(max_length=8, blank=True)
    #: The person's nationality codes joined by ``,`` in the person's own order (empty: none).
    nationalities = models.CharField(max_length=200, blank=True)
    #: The sorted distinct kinds of the episode's legal bases joined by ``+`` ("none": none).
    basis = models.CharField(max_length=200)
    #: The agreement's code ("domestic": none).
    agreement = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["person_id"], name="tally_person")]

    def __str__(self) -> str:
        return f"episode {self.episode_id} in facility {self.facility_id}"


class PopulationCount(models.Model):
    """How many open episodes of a facility fall under one key of one breakdown of the
    statistics (``nationality``/``SV``, ``sex``/``M``, ``basis``/``criminal_sentence``,
    ``agreement``/``US-SV``), the sum of :class:`PopulationTally` kept current by increments:
    the statistics read a hundred rows, not the registry. Derived, rebuildable by
    :func:`habeas.oversight.tally.tally_rebuild`."""

    facility_id = models.BigIntegerField()
    dimension = models.CharField(max_length=16)
    key = models.CharField(max_length=200)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["facility_id", "dimension", "key"], name="population_count_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id}/{self.dimension}/{self.key}: {self.n}"
