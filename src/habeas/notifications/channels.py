"""Sending: e-mail through Django's e-mail backend (console in the demo, SMTP by settings) and
webhooks signed with HMAC-SHA-256 (``X-Habeas-Signature: sha256=<hex>`` over
``<timestamp>.<body>``, with ``X-Habeas-Timestamp`` and ``Idempotency-Key``)."""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from typing import Any

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


def send_webhook(delivery: Any) -> tuple[bool, str]:
    body = document(delivery)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (the subscription's URL is http(s), checked)
        delivery.address,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "habeas-notifications",
            "Idempotency-Key": delivery.key,
            "X-Habeas-Timestamp": timestamp,
            "X-Habeas-Signature": sign(delivery.subscription.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if 200 <= status < 300:
        return True, ""
    return False, f"HTTP {status}"


def send(delivery: Any) -> tuple[bool, str]:
    if delivery.channel == "email":
        return send_email(delivery)
    return send_webhook(delivery)
