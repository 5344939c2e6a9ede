"""One error type for services (HackSoft styleguide): the API maps it to 400/403/404/409 and
the CLI to exit code 2. Messages are constants that tests assert on."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refusal: the input was bad or the request breaks a rule. Nothing was written."""

    status = 400
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class ValidationFailed(ApplicationError):
    status = 400
    code = "invalid"


class Conflict(ApplicationError):
    """The request is well-formed but conflicts with current state (capacity, open episode)."""

    status = 409
    code = "conflict"


class NotFound(ApplicationError):
    """Missing *or* outside the user's scope: the same answer for both (never leak existence)."""

    status = 404
    code = "not_found"


class Forbidden(ApplicationError):
    status = 403
    code = "forbidden"
