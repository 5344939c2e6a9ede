"""Sending: e-mail through Django's e-mail backend (console in the demo, SMTP by settings) and
webhooks signed with HMAC-SHA-256 (``X-Habeas-Signature: sha256=<hex>`` over
``<timestamp>.<body>``, with ``X-Habeas-Timestamp`` and ``Idempotency-Key``).

Webhooks go over one kept-alive HTTP/1.1 connection per receiver and thread
(:mod:`http.client`): a worker delivering a batch to one consulate opens one connection, not
one per notice. A kept connection the receiver has closed meanwhile is opened again once; a
receiver that answers ``Connection: close`` (or speaks HTTP/1.0) gets a new one each time."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

from habeas.notifications.messages import document

TIMEOUT_SECONDS = 10


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a receiver recomputes: HMAC-SHA-256 of ``timestamp.body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send_email(delivery: Any) -> tuple[bool, str]:
    try:
        EmailMessage(
            subject=delivery.subject,
            body=delivery.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.address],
            headers={"Idempotency-Key": delivery.key, "Message-ID": f"<{delivery.key}@habeas>"},
        ).send(fail_silently=False)
    except Exception as exc:  # any backend error is a failed attempt, retried
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


class _Connections(threading.local):
    """This thread's open connections, by (scheme, host, port)."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str, int | None], http.client.HTTPConnection] = {}


_connections = _Connections()

#: Errors of a kept connection the receiver closed while it was idle: the request was not
#: read, so it is sent again on a new connection (once).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def _connection(scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=TIMEOUT_SECONDS)
    return http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)


def _forget(key: tuple[str, str, int | None]) -> None:
    conn = _connections.open.pop(key, None)
    if conn is not None:
        conn.close()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url`` over this thread's kept connection to its host; the status."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname or "", parts.port)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    for _ in range(2):
        conn = _connections.open.get(key)
        reused = conn is not None
        if conn is None:
            conn = _connections.open[key] = _connection(*key)
        try:
            conn.request("POST", target, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except _STALE:
            _forget(key)
            if reused:
                continue
            raise
        except BaseException:
            _forget(key)
            raise
        if response.will_close:
            _forget(key)
        return response.status
    raise http.client.RemoteDisconnected("the receiver closed the connection")


def close_connections() -> None:
    """Close this thread's kept connections (a worker between batches may keep them)."""
    for key in list(_connections.open):
        _forget(key)


def send_webhook(delivery: Any) -> tuple[bool, str]:
    body = document(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "habeas-notifications",
        "Idempotency-Key": delivery.key,
        "X-Habeas-Timestamp": timestamp,
        "X-Habeas-Signature": sign(delivery.subscription.secret, timestamp, body),
    }
    try:
        status = post(delivery.address, body, headers)
    except (http.client.HTTPException, OSError, TimeoutError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if 200 <= status < 300:
        return True, ""
    return False, f"HTTP {status}"


def send(delivery: Any) -> tuple[bool, str]:
    if delivery.channel == "email":
        return send_email(delivery)
    return send_webhook(delivery)
