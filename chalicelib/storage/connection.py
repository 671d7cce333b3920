"""Shared PynamoDB connection for transactions and raw partition reads; library errors translated."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException

from chalicelib.errors import AppError, ExternalServiceError
from chalicelib.observability import logger
from chalicelib.storage.table import BaseItem


@lru_cache(maxsize=1)
def transaction_connection() -> Connection:
    """The connection BaseItem uses, so transactions share its client and settings."""
    return BaseItem._get_connection().connection


def query_partition(pk: str, consistent: bool = True) -> Iterator[dict[str, Any]]:
    """Every raw item of one partition (mixed entity types), following pages."""
    table = BaseItem._get_connection()
    start = None
    while True:
        try:
            page = table.query(pk, consistent_read=consistent, exclusive_start_key=start)
        except PynamoDBException as exc:  # a timeout here was an unhandled 500 (the 10 000-request run)
            raise translate_errors(exc) from exc
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def aws_code(exc: PynamoDBException) -> str | None:
    """The AWS error code behind a PynamoDB error, or None when there is none: a timeout or a refused
    connection has no response, and PynamoDB's own `cause_response_code` then raises AttributeError (seen
    under load: an outbox claim that timed out crashed its worker instead of being retried)."""
    response = getattr(exc.cause, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code is not None else None


def translate_errors(exc: PynamoDBException) -> AppError:
    """An unexpected storage failure becomes a 502 with a stable code; the cause is logged."""
    code = aws_code(exc)
    logger.warning("storage error", extra={"error": type(exc).__name__, "aws_code": code})
    if code in ("TransactionConflictException", "TransactionCanceledException"):
        from chalicelib.errors import ConflictError

        return ConflictError("Data sedang diubah bersamaan; silakan coba lagi.", code="write_conflict")
    return ExternalServiceError("Basis data sedang tidak dapat diakses; silakan coba lagi.", code="storage_error")
