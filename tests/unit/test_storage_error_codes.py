"""A storage call that times out has no AWS error code: it must become the API's storage error (retried by the
worker or answered 503), never an AttributeError from PynamoDB's own `cause_response_code`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from pynamodb.exceptions import UpdateError

from chalicelib.errors import ExternalServiceError
from chalicelib.storage import outbox as repo
from chalicelib.storage.connection import aws_code
from chalicelib.storage.models import OutboxItem


def timed_out() -> UpdateError:
    return UpdateError("Failed to update item", ReadTimeoutError(endpoint_url="http://127.0.0.1:8611/"))


def test_aws_code_of_a_timeout_is_none_and_of_a_refusal_its_code() -> None:
    with pytest.raises(AttributeError):
        timed_out().cause_response_code  # noqa: B018 - the PynamoDB behaviour this helper exists for
    assert aws_code(timed_out()) is None
    refused = UpdateError("x", ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "UpdateItem"))
    assert aws_code(refused) == "ConditionalCheckFailedException"
    assert aws_code(UpdateError("no cause")) is None


def test_an_outbox_claim_that_times_out_is_a_storage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def update(self: OutboxItem, *args: object, **kwargs: object) -> None:
        raise timed_out()

    monkeypatch.setattr(OutboxItem, "update", update)
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    with pytest.raises(ExternalServiceError) as raised:
        repo.claim("01M8V9Z0KQ16BHTK08R98ZW25C", now, now + timedelta(minutes=2))
    assert raised.value.code == "storage_error"


def test_reading_a_request_partition_that_times_out_is_a_storage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pynamodb.connection.table import TableConnection
    from pynamodb.exceptions import QueryError

    from chalicelib.storage.connection import query_partition

    def query(self: TableConnection, *args: object, **kwargs: object) -> None:
        raise QueryError("Failed to query items", ReadTimeoutError(endpoint_url="http://127.0.0.1:8611/"))

    monkeypatch.setattr(TableConnection, "query", query)
    with pytest.raises(ExternalServiceError) as raised:
        list(query_partition("REQUEST#01M8V9Z0KQ16BHTK08R98ZW25C"))
    assert raised.value.code == "storage_error"
