"""Each eligibility rule in words for the people who read a manifest: a short name and one
sentence saying what it checks; the citation is the rule's own (``rules.LIBRARY``), a treaty
article or an agreement's term. Identifiers (``U1``, ``O2``) stay for the API and the CSV."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from habeas.transfers.rules import LIBRARY

RULE_TEXT: dict[str, tuple[Promise, Promise]] = {
    "U1": (_("Valid commitment order"),
           _("Nobody is received without a valid order that commits them to custody.")),
    "U2": (_("No removal of citizens"),
           _("A state may not send its own citizens abroad against their will.")),
    "U3": (_("Protection from removal"),
           _("A court order protecting the person from removal must be respected.")),
    "U4": (_("Sentence not yet served"),
           _("Someone whose sentence has ended, counting credit for custody, must be freed.")),
    "U5": (_("Adults only"),
           _("Children are not held with adults.")),
    "U6": (_("A lawful place"),
           _("A facility of the agreement must have a place for this sex and regime.")),
    "U7": (_("Not already in custody"),
           _("One person cannot be in two custody episodes at once.")),
    "U8": (_("One identity"),
           _("The person must not match two people already in the registry.")),
    "T1": (_("Treaty in force"),
           _("The transfer treaty must be in force between the two states.")),
    "T2": (_("National of the receiving state"),
           _("A sentenced person is transferred only to their own country.")),
    "T3": (_("Final judgment"),
           _("The judgment must be final.")),
    "T4": (_("Enough of the sentence left"),
           _("At least the required months of the sentence must remain to be served.")),
    "T5": (_("Consent"),
           _("The sentenced person must consent to the transfer.")),
    "T6": (_("Offence in both states"),
           _("The acts must be an offence in both states.")),
    "T7": (_("Within the quota"),
           _("The agreement's number of places must not be exceeded.")),
    "O1": (_("Agreement in force"),
           _("The outsourcing agreement must be in force on the day of decision.")),
    "O2": (_("Convicted people only"),
           _("The receiving state takes only people convicted of a crime.")),
    "O3": (_("Citizens and residents serving sentences"),
           _("Citizens and residents may be sent only to serve a sentence.")),
    "O4": (_("Intake cap"),
           _("The agreement caps the number of people taken in.")),
}  # fmt: skip


#: Each manifest column in words, for its format check ``valid:<column>`` (a row with an
#: invalid value is decided ineligible on it).
COLUMN_WORDS: dict[str, Promise] = {
    "sending_ref": _("sending state's reference"),
    "given_names": _("given names"),
    "first_surname": _("first surname"),
    "second_surname": _("second surname"),
    "date_of_birth": _("date of birth"),
    "sex": _("sex"),
    "nationalities": _("nationalities"),
    "status_in_sending_state": _("status in the sending state"),
    "legal_basis": _("legal basis"),
    "aliases": _("aliases"),
    "removal_order_ref": _("removal order reference"),
    "removal_order_date": _("removal order date"),
    "removal_protection": _("protection from removal"),
    "offence": _("offence"),
    "conviction_date": _("conviction date"),
    "judgment_final": _("final judgment"),
    "sentence": _("sentence"),
    "sentence_start": _("sentence start"),
    "custody_credit_days": _("days of custody credit"),
    "consent": _("consent"),
    "keep_apart_from": _("keep apart from"),
    "language": _("language"),
    "contact_name": _("contact's name"),
    "contact_relation": _("contact's relation"),
    "contact_phone": _("contact's phone"),
    "contact_email": _("contact's e-mail"),
}

#: What the transfer manifest format is called where a citation names it.
FORMAT_NAME = "the transfer manifest format, v1"


def _format_check_words(column: str) -> dict[str, Any]:
    """A ``valid:<column>`` rule in words: the column named for people, the citation the
    standard behind the column's limits (a Mandela Rule, a treaty article, a statute) or the
    manifest format by name, never a file name."""
    from habeas.transfers.manifest import CITATIONS

    words = COLUMN_WORDS.get(column, column.replace("_", " "))
    citation = CITATIONS.get(column, "MANIFEST.md v1").replace("MANIFEST.md v1", FORMAT_NAME)
    return {
        "name": format_lazy(_("A valid {column}"), column=words),
        "explanation": format_lazy(
            _("The row's {column} must be present where required and well formed."),
            column=words,
        ),
        "citation": citation,
    }


def rule_words(rule_id: str) -> dict[str, Any]:
    """``name``, ``explanation`` and ``citation`` of a rule (the identifier itself when the
    rule is unknown, as for a rule retired from the library)."""
    if rule_id.startswith("valid:"):
        return _format_check_words(rule_id.removeprefix("valid:"))
    name, explanation = RULE_TEXT.get(rule_id, (rule_id, ""))
    base = LIBRARY.get(rule_id)
    return {
        "name": name,
        "explanation": explanation,
        "citation": base.source if base is not None else "",
    }
