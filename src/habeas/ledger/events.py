"""Tables of the ledger app and of Django itself that hold no custody state of their own
(ARCHITECTURE.md, the one rule, item 6: every other table is declared derived, with a
reason). The ledger's own tables are verified by their hashes, not by replay."""

from __future__ import annotations

from habeas.core.events import derived

derived("ledger.LedgerEntry", "the ledger itself: every leaf hash and the root are recomputed")
derived("ledger.LedgerNode", "stored subtree hashes: recomputed from the entries and compared")
derived("ledger.LedgerHead", "size and right border of the tree: compared with the entries")
derived("ledger.LedgerCheckpoint", "signed tree heads: each carries its own Ed25519 signature")
derived("ledger.LedgerVerification", "operational: the outcome of past verification runs")
derived(
    "ledger.SubjectKey",
    "commitment keys, outside the ledger on purpose so that erasure can destroy them; a key "
    "changed or removed behind Habeas's back makes every commitment under it fail",
)
derived("admin.LogEntry", "Django admin's log; the admin is read-only in Habeas")
derived("contenttypes.ContentType", "Django's catalogue of models, rebuilt by migrate")
derived("sessions.Session", "operational: login sessions, expire on their own")
