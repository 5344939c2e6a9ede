"""Oversight tables declared derived (ARCHITECTURE.md, the one rule, item 6)."""

from __future__ import annotations

from habeas.core.events import derived

derived(
    "oversight.AccessLog",
    "the access log (Mandela Rule 9): a record of reads, not of custody; appended by the "
    "recorder and shown to oversight, it changes nothing Habeas answers for",
)
derived("oversight.LocatorToken", "locator index: rebuilt from people.Person by the rebuild")
derived("oversight.LocatorVariant", "locator index: typo variants of the indexed words")
derived("oversight.LocatorState", "locator index bookkeeping")
