"""Ed25519 letter signatures: a rotating keyring, short QR tokens, and their verification."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from chalicelib.errors import ExternalServiceError, ValidationError

if (
    TYPE_CHECKING
):  # the cryptography package is imported lazily: it is heavy for the API's cold start
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from chalicelib.config import Settings

TOKEN_VERSION = 1
ALG = "Ed25519"
# 16 bytes of SHA-256 keep the token (and the QR) small; the signature makes collisions useless to forge.
FACTS_HASH_BYTES = 16
MAX_TOKEN_LENGTH = 512
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
KEYRING_FILE = "letter-keys.json"


# ---------------------------------------------------------------------------------------------- encoding


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64_decode_any(text: str) -> bytes:
    """Keyring files hold standard base64; accept base64url too, since people paste either."""
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    if "-" in text or "_" in text:
        return base64.urlsafe_b64decode(padded)
    return base64.b64decode(padded, validate=True)


def canonical_facts_json(facts: Mapping[str, Any]) -> bytes:
    """One byte form per facts dict: sorted keys, no spaces, UTF-8 (so the hash is stable across runs)."""
    return json.dumps(
        dict(facts), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def facts_hash(facts: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical_facts_json(facts)).digest()[:FACTS_HASH_BYTES]


# ---------------------------------------------------------------------------------------------- keyring


@dataclass
class LetterKeyring:
    """The active signing key (kid + raw 32-byte private key) and the public keys of every kid still trusted.

    Older kids keep only their public key after a rotation, so letters signed with them keep verifying.
    """

    active_kid: str
    active_private: bytes | None
    public: dict[str, bytes]
    _private_obj: Any = field(default=None, init=False, repr=False, compare=False)
    _public_objs: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.active_private is not None and len(self.active_private) != 32:
            raise ValueError("an Ed25519 private key is 32 raw bytes")
        for kid, raw in self.public.items():
            if len(raw) != 32:
                raise ValueError(f"public key {kid} is not 32 raw bytes")
        if self.active_kid not in self.public:
            raise ValueError(f"the active kid {self.active_kid} has no public key")

    def private_key(self) -> Ed25519PrivateKey:
        if self.active_private is None:
            raise ExternalServiceError(
                "Kunci penandatangan surat tidak tersedia.",
                code="letter_key_unavailable",
                kid=self.active_kid,
            )
        if self._private_obj is None:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import (
                Ed25519PrivateKey,
            )

            self._private_obj = Ed25519PrivateKey.from_private_bytes(
                self.active_private
            )
        return self._private_obj  # type: ignore[no-any-return]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        raw = self.public.get(kid)
        if raw is None:
            return None
        if kid not in self._public_objs:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import (
                Ed25519PublicKey,
            )

            self._public_objs[kid] = Ed25519PublicKey.from_public_bytes(raw)
        return self._public_objs[kid]  # type: ignore[no-any-return]

    # -- JSON form: {"active": kid, "keys": {kid: {"private": base64 raw 32 bytes or null, "public": base64 raw}}}

    def to_json(self) -> str:
        keys: dict[str, dict[str, str | None]] = {}
        for kid, pub in self.public.items():
            private = self.active_private if kid == self.active_kid else None
            keys[kid] = {
                "private": base64.b64encode(private).decode("ascii")
                if private is not None
                else None,
                "public": base64.b64encode(pub).decode("ascii"),
            }
        return json.dumps(
            {"active": self.active_kid, "keys": keys}, indent=2, sort_keys=True
        )

    @classmethod
    def from_json(cls, data: str | Mapping[str, Any]) -> LetterKeyring:
        """Parse the keyring JSON; raises ValueError on anything malformed (a config error, not user input)."""
        try:
            obj = json.loads(data) if isinstance(data, str) else dict(data)
            active = str(obj["active"])
            public: dict[str, bytes] = {}
            private: bytes | None = None
            for kid, entry in dict(obj["keys"]).items():
                public[str(kid)] = _b64_decode_any(entry["public"])
                if kid == active and entry.get("private"):
                    private = _b64_decode_any(entry["private"])
        except (
            KeyError,
            TypeError,
            AttributeError,
            json.JSONDecodeError,
            binascii.Error,
        ) as exc:
            raise ValueError(f"malformed letter keyring: {exc}") from exc
        keyring = cls(active_kid=active, active_private=private, public=public)
        if private is not None:
            # A private key that does not match its published public key would sign unverifiable letters.
            derived = _raw_public(keyring.private_key())
            if derived != public[active]:
                raise ValueError(f"private and public key of {active} do not match")
        return keyring


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _new_key() -> tuple[str, bytes, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    raw_private = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    # Short random kids: the kid travels in every QR code.
    return secrets.token_hex(4), raw_private, _raw_public(key)


def generate_keyring() -> LetterKeyring:
    kid, private, public = _new_key()
    return LetterKeyring(active_kid=kid, active_private=private, public={kid: public})


def generate_keyring_json() -> str:
    """A fresh keyring, as the text to store in Secrets Manager (ops CLI) or the local file."""
    return generate_keyring().to_json()


def rotate_keyring(keyring_json: str) -> str:
    """A new active key; every older kid keeps its public key (old letters still verify), no private part."""
    old = LetterKeyring.from_json(keyring_json)
    kid, private, public = _new_key()
    while (
        kid in old.public
    ):  # 32 random bits: a clash is unlikely but would silently drop a key
        kid, private, public = _new_key()
    keys = dict(old.public)
    keys[kid] = public
    return LetterKeyring(active_kid=kid, active_private=private, public=keys).to_json()


def _load_local_keyring(path: Path) -> LetterKeyring:
    """Create the local keyring once (0600) and reuse it, so letters issued earlier keep verifying."""
    if path.exists():
        return LetterKeyring.from_json(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_keyring_json())
    try:
        # link() fails if another process created the file first: then everyone uses that one.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return LetterKeyring.from_json(path.read_text())


def load_keyring(
    settings: Settings, secret_json: str | Mapping[str, Any] | None = None
) -> LetterKeyring:
    """The kabupaten's letter keyring.

    In the cloud the caller passes the keyring JSON it read from Secrets Manager as `secret_json` (this
    module reads no environment and calls no AWS API). Local and test stages without it use a generated
    file at settings.data_dir / "letter-keys.json". Raises ExternalServiceError when a cloud stage has no key.
    """
    if secret_json:
        try:
            return LetterKeyring.from_json(secret_json)
        except ValueError as exc:
            raise ExternalServiceError(
                "Kunci penandatangan surat tidak valid.", code="letter_key_unavailable"
            ) from exc
    if settings.is_cloud:
        raise ExternalServiceError(
            "Kunci penandatangan surat belum dikonfigurasi.",
            code="letter_key_unavailable",
        )
    return _load_local_keyring(Path(settings.data_dir) / KEYRING_FILE)


# ---------------------------------------------------------------------------------------------- tokens


class ParsedToken(NamedTuple):
    kid: str
    letter_id: str
    facts_hash: bytes
    signature: bytes


def sign_letter(keyring: LetterKeyring, facts: Mapping[str, Any]) -> str:
    """Token for the verification URL: base64url(payload JSON) "." base64url(Ed25519 signature of that text).

    facts must contain "letter_id" (see chalicelib.domain.letters.signed_facts).
    """
    letter_id = str(facts["letter_id"])
    payload = {
        "v": TOKEN_VERSION,
        "kid": keyring.active_kid,
        "lid": letter_id,
        "h": b64url_encode(facts_hash(facts)),
    }
    encoded = b64url_encode(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    signature = keyring.private_key().sign(encoded.encode("ascii"))
    return f"{encoded}.{b64url_encode(signature)}"


def _malformed() -> ValidationError:
    return ValidationError("Kode verifikasi surat tidak valid.", code="malformed_token")


def parse_token(token: str) -> ParsedToken:
    """Split a token without checking its signature. Raises ValidationError(code="malformed_token")."""
    if (
        not isinstance(token, str)
        or len(token) > MAX_TOKEN_LENGTH
        or not _TOKEN_RE.match(token)
    ):
        raise _malformed()
    encoded, sig_text = token.split(".")
    try:
        payload = json.loads(b64url_decode(encoded))
        signature = b64url_decode(sig_text)
        digest = b64url_decode(str(payload["h"]))
        kid, letter_id, version = payload["kid"], payload["lid"], payload["v"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise _malformed() from exc
    if (
        version != TOKEN_VERSION
        or not isinstance(kid, str)
        or not isinstance(letter_id, str)
        or not kid
        or not letter_id
        or len(signature) != 64
        or len(digest) != FACTS_HASH_BYTES
    ):
        raise _malformed()
    return ParsedToken(
        kid=kid, letter_id=letter_id, facts_hash=digest, signature=signature
    )


def verify_signature(keyring: LetterKeyring, token: str) -> bool:
    """True when the token was signed by a trusted kid (facts not checked: use before loading the letter)."""
    parsed = parse_token(token)
    public_key = keyring.public_key(parsed.kid)
    if public_key is None:
        return False
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(parsed.signature, token.split(".", 1)[0].encode("ascii"))
    except InvalidSignature:
        return False
    return True


def verify_token(keyring: LetterKeyring, token: str, facts: Mapping[str, Any]) -> bool:
    """True when the signature is good AND it covers exactly these stored facts (same letter id, same hash).

    False for an unknown kid, a bad signature or facts that changed. Raises ValidationError on garbage.
    """
    if not verify_signature(keyring, token):
        return False
    parsed = parse_token(token)
    if parsed.letter_id != str(facts.get("letter_id")):
        return False
    return hmac.compare_digest(parsed.facts_hash, facts_hash(facts))


def public_keys(keyring: LetterKeyring) -> list[dict[str, Any]]:
    """The published keys (GET /v1/letters/public-key), active first, so anyone can verify offline."""
    from cryptography.hazmat.primitives import serialization

    kids = [keyring.active_kid] + sorted(
        kid for kid in keyring.public if kid != keyring.active_kid
    )
    result = []
    for kid in kids:
        key = keyring.public_key(kid)
        assert key is not None
        pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        result.append(
            {
                "kid": kid,
                "alg": ALG,
                "public_key": b64url_encode(keyring.public[kid]),
                "pem": pem.decode("ascii"),
                "active": kid == keyring.active_kid,
            }
        )
    return result
