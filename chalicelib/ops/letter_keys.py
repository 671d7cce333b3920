"""Operator commands for the letter-signing keyring: write the first key, rotate to a new one."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, Protocol

from chalicelib.adapters.signing import KEYRING_FILE, LetterKeyring, generate_keyring_json, rotate_keyring
from chalicelib.config import Settings, get_settings


class KeyringStore(Protocol):
    """Where the keyring JSON lives: read() returns None while it holds no keyring yet."""

    where: str

    def read(self) -> str | None: ...

    def write(self, keyring_json: str) -> None: ...


class SecretKeyringStore:
    """The Secrets Manager secret of BALAI_LETTER_KEYS_ARN (CloudFormation creates it holding `{}`)."""

    def __init__(self, client: Any, secret_arn: str) -> None:
        self.client = client
        self.secret_arn = secret_arn
        self.where = secret_arn

    def read(self) -> str | None:
        text = str(self.client.get_secret_value(SecretId=self.secret_arn).get("SecretString") or "")
        return text if _holds_keyring(text) else None

    def write(self, keyring_json: str) -> None:
        # A new secret version; the previous one stays as AWSPREVIOUS, an undo for a botched rotation.
        self.client.put_secret_value(SecretId=self.secret_arn, SecretString=keyring_json)


class FileKeyringStore:
    """Local mode: .balai/letter-keys.json, the file the app itself generates on first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)

    def read(self) -> str | None:
        if not self.path.exists():
            return None
        text = self.path.read_text()
        return text if _holds_keyring(text) else None

    def write(self, keyring_json: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private keys: owner only
        with os.fdopen(fd, "w") as handle:
            handle.write(keyring_json)
        tmp.replace(self.path)


def _holds_keyring(text: str) -> bool:
    try:
        return bool(json.loads(text).get("keys"))
    except (ValueError, AttributeError):
        return False


def store_for(settings: Settings | None = None) -> KeyringStore:
    """Secrets Manager when BALAI_LETTER_KEYS_ARN is set, else the local keyring file."""
    settings = settings or get_settings()
    if settings.letter_keys_arn:
        import boto3

        return SecretKeyringStore(boto3.client("secretsmanager", region_name=settings.aws_region),
                                  settings.letter_keys_arn)
    return FileKeyringStore(settings.data_dir / KEYRING_FILE)


def init_keys(store: KeyringStore) -> tuple[bool, str]:
    """Write a first keyring if there is none; (created, active kid). Never replaces an existing keyring:
    its public keys verify every letter issued so far."""
    current = store.read()
    if current is not None:
        return False, LetterKeyring.from_json(current).active_kid
    keyring_json = generate_keyring_json()
    store.write(keyring_json)
    return True, LetterKeyring.from_json(keyring_json).active_kid


def rotate_keys(store: KeyringStore) -> tuple[str, str, list[str]]:
    """Make a new key active; (old kid, new kid, every kid still verifying). Raises ValueError if no keyring."""
    current = store.read()
    if current is None:
        raise ValueError(f"no keyring in {store.where}: run init-letter-keys first")
    old = LetterKeyring.from_json(current)
    rotated = rotate_keyring(current)
    new = LetterKeyring.from_json(rotated)
    store.write(rotated)
    return old.active_kid, new.active_kid, sorted(new.public)
