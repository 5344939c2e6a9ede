"""Habeas: a custody registry whose every change is a signed, tamper-evident ledger event."""

__version__ = "0.1.0"
