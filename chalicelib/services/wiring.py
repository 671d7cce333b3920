"""Builds the adapters the services use (letter keyring, file store, issuing queue) once per container."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.config import get_secrets, get_settings

if TYPE_CHECKING:
    from chalicelib.adapters.files import FileStore
    from chalicelib.adapters.queue import IssueQueue
    from chalicelib.adapters.signing import LetterKeyring
    from chalicelib.services.ports import UnitOfWork


# How long a warm function may keep signing with a rotated-out key: Powertools caches the parameter this long.
# Rotation (python -m chalicelib.ops rotate-letter-keys) reaches every warm function within it.
LETTER_KEYS_MAX_AGE_S = 300
_keyring_lock = threading.Lock()
_keyring_cache: dict[str, LetterKeyring] = {}


def _keyring_text() -> str | None:
    """The keyring JSON as stored now: the SSM SecureString parameter (at most LETTER_KEYS_MAX_AGE_S old) in
    the cloud, the local file otherwise (None before it is generated)."""
    settings = get_settings()
    if settings.letter_keys_arn:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(settings.letter_keys_arn, decrypt=True, max_age=LETTER_KEYS_MAX_AGE_S))
    from chalicelib.adapters.signing import KEYRING_FILE

    try:
        return (settings.data_dir / KEYRING_FILE).read_text()
    except FileNotFoundError:
        return None


def letter_keyring() -> LetterKeyring:
    """The kabupaten's Ed25519 keyring as stored now (a rotation is seen within LETTER_KEYS_MAX_AGE_S in the
    cloud, at once locally); parsed again only when the stored JSON changes. The rotated keyring keeps every
    earlier public key, so letters signed before and after a rotation both verify in the same process.
    Raises ExternalServiceError when unavailable."""
    from chalicelib.adapters.signing import load_keyring

    text = _keyring_text()
    with _keyring_lock:
        if text is not None and text in _keyring_cache:
            return _keyring_cache[text]
    settings = get_settings()
    keyring = load_keyring(settings, text if settings.letter_keys_arn else None)
    if text is None:  # the local file was generated just now
        text = _keyring_text()
    if text is not None:
        with _keyring_lock:
            _keyring_cache.clear()  # one keyring at a time: the latest
            _keyring_cache[text] = keyring
    return keyring


@lru_cache(maxsize=1)
def file_store() -> FileStore:
    """S3 when a letters bucket is configured, else a directory under data_dir with signed local links."""
    from chalicelib.adapters.files import LocalFileStore, S3FileStore

    settings = get_settings()
    if settings.letters_bucket:
        from botocore.config import Config

        from chalicelib.observability import aws_client

        # The regional endpoint, virtual-hosted: presigned links and upload forms would otherwise name the
        # legacy global endpoint, which buckets in opt-in regions such as ap-southeast-3 (Jakarta) refuse.
        client = aws_client("s3", region_name=settings.aws_region,
                            endpoint_url=settings.s3_endpoint or f"https://s3.{settings.aws_region}.amazonaws.com",
                            config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
        return S3FileStore(client, settings.letters_bucket)
    # A key derived from the JWT key: file links cannot be forged, and no extra secret to manage.
    link_key = hmac.new(get_secrets().jwt_key.encode(), b"balai-file-links", hashlib.sha256).digest()
    return LocalFileStore(settings.data_dir / "files", settings.public_base_url, link_key)


@lru_cache(maxsize=1)
def issue_queue() -> IssueQueue:
    """The issuing queue (SQS FIFO; moto's server in local mode). Raises ExternalServiceError when none is set."""
    from chalicelib.adapters.queue import SqsIssueQueue
    from chalicelib.errors import ExternalServiceError

    settings = get_settings()
    if not settings.issue_queue_url:
        raise ExternalServiceError("Antrean penerbitan surat belum dikonfigurasi.", code="issue_queue_unavailable")
    from chalicelib.observability import aws_client

    client = aws_client("sqs", region_name=settings.aws_region, endpoint_url=settings.sqs_endpoint)
    return SqsIssueQueue(client, settings.issue_queue_url)


# Tests swap in an in-memory unit of work (tests/fakes.py) with use_unit_of_work(); None means DynamoDB.
_unit_of_work_factory: Callable[[], UnitOfWork] | None = None


def unit_of_work() -> UnitOfWork:
    """A new unit of work (one per use case call): DynamoDB's, or the one a test installed."""
    if _unit_of_work_factory is not None:
        return _unit_of_work_factory()
    from chalicelib.storage.unit_of_work import DynamoUnitOfWork

    return DynamoUnitOfWork()


def use_unit_of_work(factory: Callable[[], UnitOfWork] | None) -> None:
    """Make unit_of_work() build with `factory` (None: back to DynamoDB)."""
    global _unit_of_work_factory
    _unit_of_work_factory = factory


def reset() -> None:
    """Tests change settings between cases; this forgets the adapters built from them."""
    with _keyring_lock:
        _keyring_cache.clear()
    file_store.cache_clear()
    issue_queue.cache_clear()
