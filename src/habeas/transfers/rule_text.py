"""Each eligibility rule in words for the people who read a manifest: a short name and one
sentence saying what it checks; the citation is the rule's own (``rules.LIBRARY``), a treaty
article or an agreement's term. Identifiers (``U1``, ``O2``) stay for the API and the CSV."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
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


def rule_words(rule_id: str) -> dict[str, Any]:
    """``name``, ``explanation`` and ``citation`` of a rule (the identifier itself when the
    rule is unknown, as for a rule retired from the library)."""
    name, explanation = RULE_TEXT.get(rule_id, (rule_id, ""))
    base = LIBRARY.get(rule_id)
    return {
        "name": name,
        "explanation": explanation,
        "citation": base.source if base is not None else "",
    }
