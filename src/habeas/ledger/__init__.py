"""The append-only ledger: RFC 9162 Merkle log of every domain event (Mandela Rule 6)."""
