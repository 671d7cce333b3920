"""Web Push end to end: the outbox sends a status message to a local push service that checks the VAPID
JWT (RFC 8292) and decrypts the aes128gcm payload (RFC 8291) with the subscription's private key."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.adapters.webpush import WebPushSender, load_vapid_keys
from chalicelib.config import get_settings
from chalicelib.workers import outbox
from tests.conftest import SAMATARING, get, post, staff_token
from tests.fakes import RecordingEmailSender, RecordingSmsSender
from tests.helpers import act, submitted, unsent_rows


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on 127.0.0.1: `/sub/...` accepts (201) after checking VAPID and decrypting, `/gone/...`
    answers 410 like a push service whose subscription expired."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"0123456789abcdef"
        self.received: list[dict[str, Any]] = []
        self.refused: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.startswith("/gone/"):
                    self.send_response(410)
                    self.end_headers()
                    return
                try:
                    service.received.append(service.check(self.headers, body))
                    self.send_response(201)
                except Exception as exc:  # a check failed: answer like a push service refusing it
                    service.refused.append(f"{type(exc).__name__}: {exc}")
                    self.send_response(400)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def subscription(self, path: str) -> dict[str, Any]:
        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                           serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.origin}{path}", "keys": {"p256dh": b64(point), "auth": b64(self.auth)}}

    def check(self, headers: Any, body: bytes) -> dict[str, Any]:
        # RFC 8292: "vapid t=<JWT signed ES256 by the server key>, k=<that key>", audience = the push origin
        scheme, _, params = headers["Authorization"].partition(" ")
        assert scheme == "vapid"
        fields = dict(p.strip().split("=", 1) for p in params.split(","))
        server_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
        claims = jwt.decode(fields["t"], server_key, algorithms=["ES256"], audience=self.origin)
        assert claims["sub"].startswith("mailto:")
        assert headers["Content-Encoding"] == "aes128gcm" and int(headers["TTL"]) > 0
        # RFC 8291: decrypt with the subscription's private key and auth secret
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")
        return {"vapid_key": fields["k"], "payload": json.loads(plain)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def push_service() -> Iterator[PushService]:
    service = PushService()
    yield service
    service.close()


def send_request_rows(request_id: str, push: WebPushSender) -> outbox.Senders:
    ids = [r.id for r in unsent_rows(SAMATARING) if r.request_id == request_id]
    fakes = outbox.Senders(sms=RecordingSmsSender(), email=RecordingEmailSender(), push=push)
    outbox.send_rows(ids, senders=fakes, max_workers=1)
    return fakes


def test_a_status_change_reaches_the_installed_portal_by_web_push(client: Any, citizen: dict[str, Any],
                                                                  push_service: PushService) -> None:
    # Given a citizen whose portal subscribed to push (a subscription the push service has dropped, too)
    keys = load_vapid_keys(get_settings())
    assert get(client, "/v1/push/vapid-public-key").json_body["public_key"] == keys.public_key_b64
    for path in ("/sub/phone-1", "/gone/old-phone"):
        response = post(client, "/v1/me/push-subscriptions", push_service.subscription(path), citizen["token"])
        assert response.status_code == 201, response.body
    # When their request is rejected and the outbox sends it
    request = submitted(client, citizen)
    operator = staff_token(client, f"operator.{SAMATARING}")
    act(client, operator, act(client, operator, request, "review").json_body, "reject", "Berkas tidak lengkap.")
    fakes = send_request_rows(request["id"], WebPushSender(keys))
    # Then the push service got both messages, signed with our VAPID key, and decrypted the Indonesian text
    assert push_service.refused == []
    by_title = {m["payload"]["title"]: m for m in push_service.received}
    assert all(m["vapid_key"] == keys.public_key_b64 for m in push_service.received)
    rejected = next(m["payload"] for t, m in by_title.items() if t.startswith("Permohonan ditolak"))
    assert "ditolak" in rejected["body"] and "Berkas tidak lengkap." in rejected["body"]
    assert rejected["tracking_code"] == request["tracking_code"]
    # And a tap on it opens that request in the portal (not the inbox first: one call fewer)
    assert rejected["url"] == f"/#permohonan/{request['id']}"
    assert any(t.startswith("Permohonan diterima") for t in by_title)
    # And push reached them, so the rejection cost no SMS
    assert fakes.sms.texts_to("+62" + citizen["phone"][1:]) == []
    # And the subscription the push service no longer knows (410) was removed
    assert get(client, "/v1/me/contact", citizen["token"]).json_body["push_subscriptions"] == 1


def test_vapid_keys_are_generated_once_into_the_app_secret_and_read_through_get_secrets(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from chalicelib.config import reset_caches
    from chalicelib.ops.vapid_keys import init_vapid_keys

    # Given the stage's app secret holding the JWT and NIK-hash keys (moto's SSM Parameter Store SecureString)
    sm = boto3.client("ssm", region_name="ap-southeast-3")
    sm.put_parameter(Name="/balai/test/app-vapid", Type="SecureString",
                     Value=json.dumps({"jwt_key": "j" * 48, "nik_hash_key": "n" * 48}))
    arn = sm.get_parameter(Name="/balai/test/app-vapid")["Parameter"]["ARN"]
    monkeypatch.setenv("BALAI_SECRETS_ARN", arn)
    reset_caches()
    try:
        settings = get_settings()
        # When ops runs the command twice
        created, where, public = init_vapid_keys(settings, sm)
        again = init_vapid_keys(settings, sm)
        # Then the key pair was made once, beside the other keys, and the app reads it from there
        assert created and where == arn and again == (False, arn, public)
        stored = json.loads(sm.get_parameter(Name="/balai/test/app-vapid", WithDecryption=True)["Parameter"]["Value"])
        assert stored["jwt_key"] == "j" * 48 and len(unb64(stored["vapid_private_key"])) == 32
        load_vapid_keys.cache_clear()
        assert load_vapid_keys(get_settings()).public_key_b64 == public
    finally:
        monkeypatch.delenv("BALAI_SECRETS_ARN")
        reset_caches()
        load_vapid_keys.cache_clear()
