"""CORS: only the configured origins are echoed; every path answers a preflight that allows the headers
the API reads (Authorization, Content-Type, Idempotency-Key)."""

import json

import pytest

from chalicelib.config import origin_of
from tests.conftest import SAMATARING, get

ALLOWED = "http://127.0.0.1:8080"  # the test stage's default: the local web front end's origin
REFUSED = "https://evil.example"


def preflight(client, path, origin, method="POST", headers="authorization,content-type,idempotency-key"):
    return client.http.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})


def test_preflight_from_the_web_front_end_allows_submitting_with_an_idempotency_key(client):
    # Given the web front end's origin
    # When the browser asks before a submission with Idempotency-Key
    response = preflight(client, f"/v1/villages/{SAMATARING}/requests", ALLOWED)
    # Then it may send it, with the headers the API reads, and the answer is cached for a while
    assert response.status_code == 204
    h = response.headers
    assert h["Access-Control-Allow-Origin"] == ALLOWED
    assert {x.strip().lower() for x in h["Access-Control-Allow-Headers"].split(",")} >= {
        "authorization", "content-type", "idempotency-key"}
    assert {"GET", "POST", "OPTIONS"} <= {m.strip() for m in h["Access-Control-Allow-Methods"].split(",")}
    assert int(h["Access-Control-Max-Age"]) > 0
    assert "Origin" in h["Vary"]


def test_preflight_from_another_origin_is_refused(client):
    response = preflight(client, f"/v1/villages/{SAMATARING}/requests", REFUSED)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert json.loads(response.body)["code"] == "cors_origin_refused"


@pytest.mark.parametrize("path", ["/v1/regions/73.07", "/v1/requests/01HXYZ/transitions", "/v1/auth/otp",
                                  "/v1/letters/verify/abc", "/openapi.json"])
def test_every_path_answers_a_preflight(client, path):
    assert preflight(client, path, ALLOWED).status_code == 204


def test_actual_response_echoes_an_allowed_origin_only(client):
    # Given a public route, called from the front end and from another site
    ok = client.http.get("/v1/regions/73.07", headers={"Origin": ALLOWED})
    other = client.http.get("/v1/regions/73.07", headers={"Origin": REFUSED})
    plain = client.http.get("/v1/regions/73.07")
    # Then only the front end's origin is echoed, never "*"
    assert ok.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Origin" not in plain.headers
    assert all("Origin" in r.headers["Vary"] for r in (ok, other, plain))


def test_error_answers_carry_the_origin_too_so_the_page_can_show_them(client):
    response = client.http.get(f"/v1/villages/{SAMATARING}/requests", headers={"Origin": ALLOWED})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_no_route_answers_star(client):
    for path in ("/v1/regions/73.07", f"/v1/villages/{SAMATARING}/letter-types", "/openapi.json"):
        assert get(client, path).headers.get("Access-Control-Allow-Origin") != "*"


def test_origins_come_from_the_stage_config(client, monkeypatch):
    from chalicelib.config import reset_caches

    # Given a stage whose front end is on CloudFront, plus a second allowed origin
    monkeypatch.setenv("BALAI_WEB_BASE_URL", "https://layanan.sinjaikab.go.id/")
    monkeypatch.setenv("BALAI_CORS_ORIGINS", "https://layanan.sinjaikab.go.id, https://d111.cloudfront.net")
    reset_caches()
    try:
        for origin in ("https://layanan.sinjaikab.go.id", "https://d111.cloudfront.net"):
            assert preflight(client, "/v1/auth/otp", origin).headers["Access-Control-Allow-Origin"] == origin
        # the local front end is no longer allowed
        assert preflight(client, "/v1/auth/otp", ALLOWED).status_code == 403
    finally:
        monkeypatch.undo()
        reset_caches()


def test_default_origin_is_the_web_base_urls(monkeypatch):
    from chalicelib.config import get_settings, reset_caches

    monkeypatch.setenv("BALAI_WEB_BASE_URL", "https://Layanan.Example.go.id:443/portal/")
    monkeypatch.delenv("BALAI_CORS_ORIGINS", raising=False)
    reset_caches()
    try:
        assert get_settings().cors_origins == ("https://layanan.example.go.id",)
    finally:
        monkeypatch.undo()
        reset_caches()


def test_origin_of():
    assert origin_of("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert origin_of("https://a.example:443/x?y") == "https://a.example"
    with pytest.raises(ValueError):
        origin_of("javascript:alert(1)")


def test_the_browsers_upload_to_the_local_store_can_read_its_answer(client, citizen):
    # A multipart form POST is a "simple" cross-origin request (no preflight): its answer must carry
    # the origin, or the page cannot tell a stored file from a refused one.
    from tests.conftest import JPEG, post, send_form

    form = post(client, f"/v1/villages/{SAMATARING}/uploads",
                {"letter_type": "SKD", "attachment": "ktp", "filename": "ktp.jpg", "content_type": "image/jpeg",
                 "size": len(JPEG)}, citizen["token"]).json_body
    from urllib.parse import urlsplit

    from urllib3 import encode_multipart_formdata

    body, ctype = encode_multipart_formdata([*form["fields"].items(), ("file", ("k.jpg", JPEG, "image/jpeg"))])
    response = client.http.post(urlsplit(form["url"]).path, body=body,
                                headers={"Content-Type": ctype, "Origin": ALLOWED})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    # a refused one too (the local store takes one post per key: 409 upload_exists)
    again = client.http.post(urlsplit(form["url"]).path, body=body, headers={"Content-Type": ctype, "Origin": ALLOWED})
    assert again.status_code == 409 and again.headers["Access-Control-Allow-Origin"] == ALLOWED
    fresh = post(client, f"/v1/villages/{SAMATARING}/uploads",
                 {"letter_type": "SKD", "attachment": "ktp", "filename": "ktp.jpg", "content_type": "image/jpeg",
                  "size": len(JPEG)}, citizen["token"]).json_body
    assert send_form(client, fresh, JPEG).status_code == 204
