"""These tests run against moto and the seeded Sinjai demo table (tests/database.py)."""

from tests.database import *  # noqa: F403  (moto, the seeded table, the app/client/citizen fixtures)
