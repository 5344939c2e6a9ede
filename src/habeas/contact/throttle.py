"""The public visit request's rate limit, on the shared cache (``settings.CACHES``: the
database by default, Redis with ``HABEAS_CACHE_URL``), so every worker and server counts
together (docs/security.md, finding 7). The same fixed-window slot claims as the locator's:
each request claims one numbered slot with ``cache.add``, atomic on every shared backend."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from habeas.core.clock import now


@dataclass(frozen=True)
class Throttle:
    allowed: bool
    limit: int
    retry_after: int = 0


def _take_slot(key: str, limit: int, window: int, instant: dt.datetime) -> Throttle:
    stamp = int(instant.timestamp())
    start = stamp - stamp % window
    base = f"habeas:visit-request:{key}:{start}"
    slot = int(cache.get(f"{base}:next", 0) or 0)
    while slot < limit:
        if cache.add(f"{base}:{slot}", 1, timeout=window + 5):
            cache.set(f"{base}:next", slot + 1, timeout=window + 5)
            return Throttle(True, limit)
        slot += 1
    return Throttle(False, limit, retry_after=max(start + window - stamp, 1))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def client_throttle(client: str, *, at: dt.datetime | None = None) -> Throttle:
    """Requests per client address and hour (``HABEAS_VISIT_REQUESTS_PER_HOUR``, default 5)."""
    limit = int(getattr(settings, "HABEAS_VISIT_REQUESTS_PER_HOUR", 5))
    return _take_slot(f"client:{_digest(client)}", limit, 3600, at or now())


def subject_throttle(reference: str, *, at: dt.datetime | None = None) -> Throttle:
    """Requests for one reference per day, from all addresses together
    (``HABEAS_VISIT_REQUESTS_PER_REFERENCE_PER_DAY``, default 5): nobody floods one person's
    slots, and the reference is hashed (no reference is kept in the cache)."""
    limit = int(getattr(settings, "HABEAS_VISIT_REQUESTS_PER_REFERENCE_PER_DAY", 5))
    return _take_slot(f"ref:{_digest(reference.strip().upper())}", limit, 86400, at or now())
