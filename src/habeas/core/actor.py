"""Who did it: every service takes ``*, actor`` and writes it into the ledger entry
(Mandela Rule 6: an audit trail of every modification)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """The person or process responsible for a change, as recorded on the ledger."""

    name: str
    role: str = ""
    user_id: int | None = None

    @classmethod
    def from_user(cls, user: Any) -> Actor:
        return cls(name=str(user.username), role=str(getattr(user, "role", "")), user_id=user.pk)

    @classmethod
    def cli(cls) -> Actor:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(name=f"cli:{who}", role="system")

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(name=f"system:{what}", role="system")

    @property
    def ledger_name(self) -> str:
        return self.name
