"""The API tests' population (``scene``: people in custody under both agreements)."""

from tests.api.conftest import scene

__all__ = ["scene"]
