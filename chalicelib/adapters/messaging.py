"""Shared by the SMS and email adapters: send errors, botocore error translation, the JSONL outbox writer."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from chalicelib.domain.clock import iso, utcnow


class SendError(Exception):
    """A message could not be handed to the provider; `provider_code` is the provider's own error code."""

    retryable = False

    def __init__(self, message: str, *, provider_code: str | None = None) -> None:
        super().__init__(message)
        self.provider_code = provider_code


class TransientSendError(SendError):
    """Worth retrying later with backoff: throttling, provider 5xx, timeouts, lost connections."""

    retryable = True


class PermanentSendError(SendError):
    """Retrying will not help: invalid number or address, opted out, message rejected, bad configuration."""


# Provider codes that mean "try again later" (HTTP 4xx throttles included); everything else 4xx is permanent.
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "Throttled",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "LimitExceededException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalErrorException",
        "RequestTimeout",
        "RequestTimeoutException",
        "KMSThrottlingException",
        "KMSThrottling",
    }
)


def translate_boto_error(exc: Exception, action: str) -> SendError:
    """Classify a botocore/boto3 exception; the caller raises the result `from exc`.

    Unknown client errors with a 4xx status are permanent (the request itself is wrong); unknown 5xx and
    network-level failures are transient. Missing credentials count as transient: on Lambda they usually
    mean the credential endpoint hiccuped, and the outbox's bounded retries end in a visible failure anyway.
    """
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        text = f"{action} failed: {code}"
        if code in _TRANSIENT_CODES or status >= 500 or status == 429:
            return TransientSendError(text, provider_code=code)
        return PermanentSendError(text, provider_code=code)
    if isinstance(exc, ParamValidationError):
        return PermanentSendError(f"{action} failed: invalid parameters", provider_code="ParamValidation")
    if isinstance(exc, BotoCoreError):
        return TransientSendError(f"{action} failed: {type(exc).__name__}", provider_code=type(exc).__name__)
    return TransientSendError(f"{action} failed: {type(exc).__name__}", provider_code=type(exc).__name__)


# One lock per file: the stream worker may send from several threads; flock also covers other processes.
_FILE_LOCKS: dict[Path, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line with a single write under a thread lock and an advisory file lock."""
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    path = path.resolve()
    with _FILE_LOCKS_GUARD:
        lock = _FILE_LOCKS.setdefault(path, threading.Lock())
    with lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            except ImportError:  # Windows developers: the O_APPEND single write is the best we can do
                pass
            os.write(fd, line)
        finally:
            os.close(fd)  # closing releases the flock


class LocalFileSender:
    """What the local SMS and e-mail senders share: one JSON line per message appended to a file under the
    outbox folder (`.balai/outbox/*.jsonl`), stamped with its message id and the time it was "sent"."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def write(self, message_id: str, **fields: Any) -> str:
        return write_local(self.path, {"message_id": message_id, **fields, "sent_at": iso(utcnow())}, message_id)


def write_local(path: Path, record: dict[str, Any], message_id: str) -> str:
    """Append one message to a local outbox file, as the SMS and e-mail file senders both do; a
    failed write is transient (a full disk clears), so the outbox retries it."""
    try:
        append_jsonl(path, record)
    except OSError as exc:
        raise TransientSendError(f"writing {path.name} failed: {exc.strerror}") from exc
    return f"local-{message_id}"
