"""Builds the adapters the services use (letter keyring, file store) once per container, from settings."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.config import get_secrets, get_settings

if TYPE_CHECKING:
    from chalicelib.adapters.files import FileStore
    from chalicelib.adapters.signing import LetterKeyring


@lru_cache(maxsize=1)
def letter_keyring() -> LetterKeyring:
    """The kabupaten's Ed25519 keyring: a Secrets Manager secret in the cloud (cached by Powertools
    parameters), a generated file in local/test stages. Raises ExternalServiceError when unavailable."""
    from chalicelib.adapters.signing import load_keyring

    settings = get_settings()
    secret = None
    if settings.letter_keys_arn:
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(settings.letter_keys_arn, max_age=300)
    return load_keyring(settings, secret)


@lru_cache(maxsize=1)
def file_store() -> FileStore:
    """S3 when a letters bucket is configured, else a directory under data_dir with signed local links."""
    from chalicelib.adapters.files import LocalFileStore, S3FileStore

    settings = get_settings()
    if settings.letters_bucket:
        import boto3
        from botocore.config import Config

        # The regional endpoint, virtual-hosted: presigned links and upload forms would otherwise name the
        # legacy global endpoint, which buckets in opt-in regions such as ap-southeast-3 (Jakarta) refuse.
        client = boto3.client("s3", region_name=settings.aws_region,
                              endpoint_url=settings.s3_endpoint or f"https://s3.{settings.aws_region}.amazonaws.com",
                              config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
        return S3FileStore(client, settings.letters_bucket)
    # A key derived from the JWT key: file links cannot be forged, and no extra secret to manage.
    link_key = hmac.new(get_secrets().jwt_key.encode(), b"balai-file-links", hashlib.sha256).digest()
    return LocalFileStore(settings.data_dir / "files", settings.public_base_url, link_key)


def reset() -> None:
    """Tests change settings between cases; this forgets the adapters built from them."""
    letter_keyring.cache_clear()
    file_store.cache_clear()
