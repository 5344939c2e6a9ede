"""The public statistics without recomputing the registry on every request: a version of the
registry tied to the ledger, a shared cache of the documents computed at that version, and
HTTP validators so that an unchanged registry answers ``304 Not Modified``.

Why the ledger's head is the registry's version: every change of state goes through a service
that appends its ledger entry in the same transaction (ARCHITECTURE.md, "the one rule"), so the
ledger grows with every change and with nothing else. A figure computed at ledger size *n* is
the figure of the registry as long as the ledger still has *n* entries.

Some figures change with the clock alone: a legal basis that expires at midnight opens an alarm
(A4), a silent sensor opens an alert after two hours. The version therefore also carries the
current period of ``HABEAS_STATS_MAX_AGE`` seconds (default 60): such a change shows within
that time, and any change through a service shows at once. The documents are kept in Django's
cache (the shared database cache, or Redis with ``HABEAS_CACHE_URL``), so every application
server and worker computes a version once.

Two validators are sent. The ``ETag`` names the version exactly. ``Last-Modified`` is when the
version began (the newest ledger entry was recorded, or the period started) at HTTP's
precision of one second, so it is sent only once that second is over: a client that holds it
then holds every change of that second, and ``If-Modified-Since`` answers 304 only when
nothing was recorded after it. ``If-None-Match``, when sent, decides alone (RFC 9110
§13.2.2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language

from habeas.ledger.store import read_head

#: Computed documents stay in the cache a little longer than their period, then expire.
_KEEP_PERIODS = 2
#: The newest documents are also kept in this process, unpickled: a version names its
#: content for good, so a copy can never be stale, only old (the next version is another key).
_LOCAL_SIZE = 32
_LOCAL: OrderedDict[str, Any] = OrderedDict()
_LOCAL_LOCK = threading.Lock()


def max_age() -> int:
    """Seconds within which a change that comes from the clock alone shows (>= 1)."""
    return max(1, int(getattr(settings, "HABEAS_STATS_MAX_AGE", 60)))


def registry_version(now: float | None = None) -> str:
    """``<ledger size>.<root>.<period>``: changes with every change of the registry and at the
    start of every period of :func:`max_age` seconds. The root (the Merkle tree hash of the
    head, read with its size) makes two databases whose ledgers happen to have the same size
    different versions, should they ever share one cache."""
    at = time.time() if now is None else now
    head = read_head()
    return f"{head.size}.{head.root.hex()[:16]}.{int(at // max_age())}"


def cached_document(
    name: str, compute: Callable[[], Any], *, version: str | None = None, shared: bool = True
) -> Any:
    """``compute()`` at the registry's current version, from the shared cache when another
    request (or server) has computed it already. A version already read from the request's
    validator may be passed so that the document and the ETag agree. ``shared=False``: kept
    in this process only (a small figure cheaper to recompute than to fetch and store)."""
    key = f"habeas:doc:{name}:{version or registry_version()}"
    with _LOCAL_LOCK:
        if key in _LOCAL:
            _LOCAL.move_to_end(key)
            return _LOCAL[key]
    found = cache.get(key) if shared else None
    if found is None:
        found = compute()
        if shared:
            cache.set(key, found, timeout=max_age() * _KEEP_PERIODS)
    with _LOCAL_LOCK:
        _LOCAL[key] = found
        while len(_LOCAL) > _LOCAL_SIZE:
            _LOCAL.popitem(last=False)
    return found


def etag_for(version: str, *parts: str) -> str:
    """A weak validator for a representation of the registry at ``version`` (the language and
    the format are parts of the representation)."""
    digest = hashlib.sha256("|".join((version, *parts)).encode()).hexdigest()[:20]
    return f'W/"{digest}"'


def last_modified(version: str) -> float:
    """When ``version`` began, in seconds since the epoch: the newest ledger entry's
    ``recorded_at`` or the start of the version's period, whichever is later."""
    from habeas.ledger.models import LedgerEntry

    size, _root, period = version.split(".")[:3]
    started = float(int(period) * max_age())
    recorded = (
        LedgerEntry.objects.filter(index=int(size) - 1)
        .values_list("recorded_at", flat=True)
        .first()
        if int(size)
        else None
    )
    return max(started, recorded.timestamp()) if isinstance(recorded, dt.datetime) else started


def _not_modified_since(request: HttpRequest, modified: float) -> bool:
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(modified) <= since


def _matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    weak = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == weak for tag in header.split(","))


def conditional(
    request: HttpRequest,
    fmt: str,
    respond: Callable[[str], HttpResponse],
    *,
    shared: bool = True,
    parts: tuple[str, ...] = (),
) -> HttpResponse:
    """Answer ``304`` when the client's ``If-None-Match`` names the current representation
    (or, without it, when its ``If-Modified-Since`` is not before the version began), else
    ``respond(version)`` with ``ETag``, ``Last-Modified`` and ``Cache-Control`` set: clients
    and proxies may keep it but must ask again (``no-cache``), which costs two small queries
    (the ledger's head, its newest entry's time). Pages that carry a session's own form
    tokens or a reader's own scope are not ``shared``: only the browser keeps them; ``parts``
    names what else the representation depends on (the reader's scope, the filters)."""
    version = registry_version()
    etag = etag_for(version, fmt, get_language() or "", *parts)
    modified = last_modified(version)
    # Only a second that is over may be named: a later change in it would not be seen.
    whole = int(modified) + 1 <= time.time()
    if request.method not in {"GET", "HEAD"}:
        unchanged = False
    elif "If-None-Match" in request.headers:
        unchanged = _matches(request, etag)
    else:
        unchanged = whole and _not_modified_since(request, modified)
    response: HttpResponse = HttpResponseNotModified() if unchanged else respond(version)
    response["ETag"] = etag
    if whole:
        response["Last-Modified"] = http_date(int(modified))
    response["Cache-Control"] = f"{'public' if shared else 'private'}, no-cache"
    response["Vary"] = "Accept-Language, Cookie"
    return response
