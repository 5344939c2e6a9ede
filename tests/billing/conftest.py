"""The API tests' people (tests/api/conftest.py), for the billing API tests."""

from tests.api.conftest import client_for, scene  # noqa: F401
