"""Shared kernel: errors, actor, clock, canonical JSON. Holds no domain models."""
