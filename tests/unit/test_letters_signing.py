"""Ed25519 letter tokens: valid, tampered, unknown key, rotation, malformed, key files."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from chalicelib.adapters import signing
from chalicelib.adapters.signing import (
    LetterKeyring,
    b64url_decode,
    b64url_encode,
    generate_keyring,
    generate_keyring_json,
    load_keyring,
    parse_token,
    public_keys,
    rotate_keyring,
    sign_letter,
    verify_signature,
    verify_token,
)
from chalicelib.config import Settings
from chalicelib.domain.letters import signed_facts
from chalicelib.errors import ExternalServiceError, ValidationError


def _facts(**overrides: object) -> dict[str, str]:
    args: dict[str, object] = {
        "letter_id": "01JD8Z3Q5X7N2K4P9R1T6V8W0Y",
        "number": "470/012/DS-2001/XI/2026",
        "letter_type": "SKD",
        "village_code": "73.07.09.2001",
        "issued_date": date(2026, 11, 23),
        "signer_name": "Muhammad Yusuf Daeng Mattiro",
        "applicant_name": "Andi Baso Tenri",
    }
    args.update(overrides)
    return signed_facts(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def keyring() -> LetterKeyring:
    return generate_keyring()


def test_valid_token_verifies(keyring: LetterKeyring) -> None:
    # Given a letter signed with the active key
    facts = _facts()
    token = sign_letter(keyring, facts)
    # Then the token verifies against the stored facts and names the letter
    assert verify_token(keyring, token, facts)
    assert parse_token(token).letter_id == facts["letter_id"]
    assert parse_token(token).kid == keyring.active_kid


def test_token_is_short_enough_for_a_qr(keyring: LetterKeyring) -> None:
    token = sign_letter(keyring, _facts())
    assert len(token) <= 220
    assert all(c.isalnum() or c in "-_." for c in token)  # URL-safe without escaping


def test_signing_is_deterministic(keyring: LetterKeyring) -> None:
    # Ed25519 signatures are deterministic: regenerating a letter reproduces its QR
    assert sign_letter(keyring, _facts()) == sign_letter(keyring, _facts())


@pytest.mark.parametrize(
    "change",
    [
        {"number": "470/013/DS-2001/XI/2026"},
        {"applicant_name": "Andi Baso Tenro"},
        {"issued_date": date(2026, 11, 24)},
        {"signer_name": "Orang Lain"},
        {"letter_type": "SKTM"},
    ],
)
def test_changed_facts_do_not_verify(
    keyring: LetterKeyring, change: dict[str, object]
) -> None:
    # Given a token for one letter, when the stored facts differ (edited record or a swapped letter)
    token = sign_letter(keyring, _facts())
    # Then verification fails even though the signature itself is good
    assert verify_signature(keyring, token)
    assert not verify_token(keyring, token, _facts(**change))


def test_token_for_another_letter_id_does_not_verify(keyring: LetterKeyring) -> None:
    token = sign_letter(keyring, _facts())
    assert not verify_token(
        keyring, token, _facts(letter_id="01JD8Z3Q5X7N2K4P9R1T6V8W0Z")
    )


def test_tampered_signature_is_forged(keyring: LetterKeyring) -> None:
    facts = _facts()
    payload, sig = sign_letter(keyring, facts).split(".")
    raw = bytearray(b64url_decode(sig))
    raw[0] ^= 0x01
    assert not verify_token(keyring, f"{payload}.{b64url_encode(bytes(raw))}", facts)


def test_tampered_payload_is_forged(keyring: LetterKeyring) -> None:
    # Given an attacker who rewrites the payload to point at another letter but keeps the signature
    facts = _facts()
    token = sign_letter(keyring, facts)
    payload = json.loads(b64url_decode(token.split(".")[0]))
    payload["lid"] = "01JD8Z3Q5X7N2K4P9R1T6V8W0Z"
    forged = (
        b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
        + "."
        + token.split(".")[1]
    )
    assert not verify_signature(keyring, forged)
    assert not verify_token(
        keyring, forged, _facts(letter_id="01JD8Z3Q5X7N2K4P9R1T6V8W0Z")
    )


def test_token_from_another_keyring_with_unknown_kid(keyring: LetterKeyring) -> None:
    other = generate_keyring()
    token = sign_letter(other, _facts())
    assert parse_token(token).kid not in keyring.public
    assert not verify_signature(keyring, token)
    assert not verify_token(keyring, token, _facts())


def test_token_signed_by_another_key_under_a_known_kid_is_forged(
    keyring: LetterKeyring,
) -> None:
    impostor = generate_keyring()
    impostor = LetterKeyring(
        active_kid=keyring.active_kid,
        active_private=impostor.active_private,
        public={keyring.active_kid: impostor.public[impostor.active_kid]},
    )
    token = sign_letter(impostor, _facts())
    assert not verify_token(keyring, token, _facts())


def test_rotation_keeps_old_letters_valid() -> None:
    # Given a letter signed before a rotation
    original_json = generate_keyring_json()
    original = LetterKeyring.from_json(original_json)
    old_token = sign_letter(original, _facts())
    # When the keyring is rotated
    rotated_json = rotate_keyring(original_json)
    rotated = LetterKeyring.from_json(rotated_json)
    # Then new letters use the new kid, old letters still verify, and the old private key is gone
    assert rotated.active_kid != original.active_kid
    assert verify_token(rotated, old_token, _facts())
    new_token = sign_letter(rotated, _facts(letter_id="NEW"))
    assert parse_token(new_token).kid == rotated.active_kid
    assert verify_token(rotated, new_token, _facts(letter_id="NEW"))
    stored = json.loads(rotated_json)
    assert stored["keys"][original.active_kid]["private"] is None
    assert stored["keys"][rotated.active_kid]["private"]
    # And a second rotation keeps both older public keys
    twice = LetterKeyring.from_json(rotate_keyring(rotated_json))
    assert {original.active_kid, rotated.active_kid} < set(twice.public)
    assert verify_token(twice, old_token, _facts())


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "!!!.???",
        "eyJ2IjoxfQ.AAAA",  # payload without kid/lid/h
        b64url_encode(b'{"v":2,"kid":"k","lid":"l","h":"AAAAAAAAAAAAAAAAAAAAAA"}')
        + "."
        + "A" * 86,
        b64url_encode(b'{"v":1,"kid":"k","lid":"l","h":"AAAA"}')
        + "."
        + "A" * 86,  # short hash
        b64url_encode(b'{"v":1,"kid":"k","lid":"l","h":"AAAAAAAAAAAAAAAAAAAAAA"}')
        + ".AAAA",  # short sig
        b64url_encode(b"[1,2,3]") + "." + "A" * 86,
        b64url_encode(b"\xff\xfe") + "." + "A" * 86,
        "A" * 600 + "." + "A" * 86,
    ],
)
def test_malformed_tokens(keyring: LetterKeyring, token: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_token(token)
    assert info.value.code == "malformed_token"
    with pytest.raises(ValidationError):
        verify_token(keyring, token, _facts())


def test_public_keys_are_published_and_usable(keyring: LetterKeyring) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    # Given the published keys, an offline verifier can check a token with the PEM alone
    published = public_keys(keyring)
    assert (
        published[0]["kid"] == keyring.active_kid and published[0]["alg"] == "Ed25519"
    )
    assert len(b64url_decode(published[0]["public_key"])) == 32
    token = sign_letter(keyring, _facts())
    payload, sig = token.split(".")
    offline_key = load_pem_public_key(published[0]["pem"].encode())
    assert isinstance(offline_key, Ed25519PublicKey)
    offline_key.verify(b64url_decode(sig), payload.encode())  # raises if invalid
    assert "private" not in json.dumps(published)


def test_local_keyring_file_is_created_once_with_0600(tmp_path: Path) -> None:
    settings = Settings(stage="local", data_dir=tmp_path)
    first = load_keyring(settings)
    path = tmp_path / "letter-keys.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = load_keyring(settings)
    assert second.active_kid == first.active_kid
    assert verify_token(second, sign_letter(first, _facts()), _facts())
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_cloud_keyring_comes_from_the_secret_text() -> None:
    secret = generate_keyring_json()
    keyring = load_keyring(Settings(stage="prod"), secret_json=secret)
    assert keyring.active_kid == json.loads(secret)["active"]


def test_cloud_without_secret_fails_loudly() -> None:
    with pytest.raises(ExternalServiceError):
        load_keyring(Settings(stage="prod"))


def test_mismatched_private_key_is_refused() -> None:
    a, b = json.loads(generate_keyring_json()), json.loads(generate_keyring_json())
    a["keys"][a["active"]]["public"] = b["keys"][b["active"]]["public"]
    with pytest.raises(ValueError):
        LetterKeyring.from_json(json.dumps(a))


def test_verify_only_keyring_cannot_sign() -> None:
    data = json.loads(generate_keyring_json())
    data["keys"][data["active"]]["private"] = None
    keyring = LetterKeyring.from_json(json.dumps(data))
    with pytest.raises(ExternalServiceError):
        sign_letter(keyring, _facts())


def test_module_import_does_not_load_cryptography() -> None:
    import subprocess
    import sys

    code = (
        "import sys, chalicelib.adapters.signing; print('cryptography' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=_root(),
    )
    assert out.stdout.strip() == "False"
    assert signing.ALG == "Ed25519"


def _root() -> str:
    return str(Path(__file__).resolve().parents[2])
