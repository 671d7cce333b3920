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


def parameter_name(arn_or_name: str) -> str:
    """The name of an SSM parameter from its ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/balai/prod/x ->
    /balai/prod/x); a name is returned as it is."""
    if arn_or_name.startswith("arn:"):
        return "/" + arn_or_name.split(":parameter/", 1)[1]
    return arn_or_name


class ParameterKeyringStore:
    """The SSM SecureString parameter of BALAI_LETTER_KEYS_ARN (written here: CloudFormation cannot create
    SecureString parameters, so it does not exist before init-letter-keys)."""

    def __init__(self, client: Any, parameter_arn: str) -> None:
        self.client = client
        self.name = parameter_name(parameter_arn)
        self.where = parameter_arn

    def read(self) -> str | None:
        try:
            text = str(self.client.get_parameter(Name=self.name, WithDecryption=True)["Parameter"]["Value"])
        except self.client.exceptions.ParameterNotFound:
            return None
        return text if _holds_keyring(text) else None

    def write(self, keyring_json: str) -> None:
        # A new parameter version; SSM keeps the earlier ones (get_parameter_history), an undo for a botched
        # rotation. Standard tier (free) holds 4 KB: about 30 rotations' public keys.
        self.client.put_parameter(Name=self.name, Value=keyring_json, Type="SecureString", Overwrite=True,
                                  Tier="Standard")


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
    """The SSM parameter when BALAI_LETTER_KEYS_ARN is set, else the local keyring file."""
    settings = settings or get_settings()
    if settings.letter_keys_arn:
        import boto3

        return ParameterKeyringStore(boto3.client("ssm", region_name=settings.aws_region), settings.letter_keys_arn)
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
