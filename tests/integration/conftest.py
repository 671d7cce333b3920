"""These tests run against moto and the seeded Sinjai demo table (tests/database.py)."""

from collections.abc import Iterator

import pytest

from chalicelib.workers import outbox
from tests.database import *  # noqa: F403  (moto, the seeded table, the app/client/citizen fixtures)
from tests.fakes import RecordingEmailSender, RecordingSmsSender


@pytest.fixture()
def senders(monkeypatch: pytest.MonkeyPatch) -> Iterator[outbox.Senders]:
    """Recording fakes in place of the stage's SMS/email adapters, for the handlers Chalice invokes too."""
    fakes = outbox.Senders(sms=RecordingSmsSender(), email=RecordingEmailSender())
    monkeypatch.setattr(outbox, "default_senders", lambda: fakes)
    yield fakes
