"""The API through its Lambda function URL (payload 2.0): the web's real flows, and the same answers as the REST API.

Every call here is an invocation of the app object with the event the Lambda service builds for a function URL
(tests/function_url_support.py); `rest` is Chalice's test client, the REST (API Gateway) path, for comparison.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from chalicelib.config import reset_caches
from tests.conftest import (
    SAMATARING,
    act,
    citizen_login,
    complete_profile,
    e164,
    get,
    issue_over_api,
    last_sms,
    post,
    random_nik,
    random_phone,
    register_resident,
    staff_token,
    submit,
)
from tests.function_url_support import FunctionUrlClient, FunctionUrlHTTP, function_url_event

ALLOWED = "http://127.0.0.1:8080"  # the test stage's web origin
BROWSER = "gzip, deflate, br"  # Chromium's Accept-Encoding


@pytest.fixture()
def furl(client, app) -> FunctionUrlClient:
    return FunctionUrlClient(client, app)


@pytest.fixture()
def rest(client):
    return client


def _same(a: Any, b: Any) -> None:
    assert (a.status_code, a.json_body) == (b.status_code, b.json_body), (a.body, b.body)


def test_a_citizen_logs_in_with_a_code_submits_once_and_staff_work_the_request(furl, app):
    # Given a citizen who logs in with an SMS code, through the function URL
    citizen = citizen_login(furl)
    complete_profile(furl, citizen)
    register_resident(citizen)
    # When she submits with an Idempotency-Key, and the browser repeats the call
    key = {"Idempotency-Key": "7f6c1d0e-3a52-4c11-9a0e-1b2f0c9d8e77"}
    first = submit(furl, citizen, headers=key)
    again = submit(furl, citizen, headers=key)
    # Then one request exists: the repeat answers the same request
    assert first.status_code == 201, first.body
    assert again.status_code in (200, 201) and again.json_body["id"] == first.json_body["id"]
    request = first.json_body
    # And the village's operator reviews and approves it, the kades issues it, all through the function URL
    operator = staff_token(furl, f"operator.{SAMATARING}")
    reviewed = act(furl, operator, request, "review")
    assert reviewed.status_code == 200 and reviewed.json_body["status"] == "in_review", reviewed.body
    approved = act(furl, operator, reviewed.json_body, "approve")
    assert approved.status_code == 200 and approved.json_body["status"] == "approved", approved.body
    issued = issue_over_api(furl, staff_token(furl, f"kades.{SAMATARING}"), approved.json_body)
    # And her letter's PDF comes back as bytes (base64 in the function URL's answer, as Chalice marks it)
    link = get(furl, f"/v1/requests/{request['id']}/letter", citizen["token"]).json_body["url"]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    pdf = furl.http.get(path, headers={"Accept": "application/pdf", "Accept-Encoding": BROWSER})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert furl.http.last_answer["isBase64Encoded"] is True and pdf.body.startswith(b"%PDF")
    # (a binary answer is never gzip-coded, even for a browser that accepts it)
    assert "Content-Encoding" not in furl.http.last_answer["headers"]
    assert issued["letter"]["number"]


def test_query_strings_with_repeated_and_percent_encoded_values_read_as_on_rest(furl, rest):
    operator = staff_token(rest, f"operator.{SAMATARING}")
    for query in ("status=submitted", "status=approved&status=submitted", "status=sub%6Ditted&limit=%32",
                  "status=submitted&limit=%EF%BC%95", "status=nonsense+value", "limit=&status="):
        path = f"/v1/villages/{SAMATARING}/requests?{query}"
        _same(get(furl, path, operator), get(rest, path, operator))


@pytest.mark.parametrize("path", [
    "/v1/nowhere", "/v1//regions/73.07", "/v1/regions//73.07", "/v1/regions/73.07/extra/deeper",
])
def test_unknown_and_look_alike_paths_are_the_gateway_responses_404(furl, path):
    response = furl.http.get(path)
    assert response.status_code == 404
    assert response.json_body["code"] == "route_not_found"


@pytest.mark.parametrize("path", [
    "/v1/regions/73.07/",  # one trailing slash: the same resource, as on API Gateway
    "/v1/requests/01HX%2F..%2Fadmin",  # an encoded slash stays inside the request id, which is refused
    "/v1/requests/%E0%A5%A7%E0%A5%A8%E0%A5%A9",  # Unicode (Devanagari) digits in an id
    "/v1/villages/%EF%BC%97%EF%BC%93.07.03.1001/letter-types",  # fullwidth digits in a village code
    "/v1/letters/verify/a%26b%3Dc",
])
def test_look_alike_paths_answer_as_the_rest_api_does(furl, rest, path):
    _same(furl.http.get(path, headers={"Accept": "application/json"}),
          rest.http.get(path, headers={"Accept": "application/json"}))


def test_a_known_path_with_another_method_is_405_in_balais_shape(furl):
    response = furl.http.request("DELETE", "/v1/regions/73.07")
    assert response.status_code == 405
    assert response.json_body["code"] == "method_not_allowed"


def test_an_oversized_body_is_the_same_413_and_nothing_is_written(furl, rest):
    phone = random_phone()
    body = json.dumps({"nik": random_nik(), "phone": phone, "pad": "x" * (70 * 1024)})
    h = {"Content-Type": "application/json"}
    on_furl, on_rest = furl.http.post("/v1/auth/otp", headers=h, body=body), rest.http.post("/v1/auth/otp", headers=h,
                                                                                             body=body)
    assert on_furl.status_code == 413 and on_furl.json_body["code"] == "body_too_large"
    _same(on_furl, on_rest)
    # No code was made or sent for the phone
    with pytest.raises((IndexError, FileNotFoundError)):  # no message to it (or none at all yet)
        last_sms(e164(phone))


def test_an_allowed_origin_gets_no_cors_header_from_the_app_the_function_url_adds_them(furl, rest):
    # Given the web front end's origin on both paths
    on_furl = furl.http.get("/v1/regions/73.07", headers={"Origin": ALLOWED})
    on_rest = rest.http.get("/v1/regions/73.07", headers={"Origin": ALLOWED})
    # Then the REST API's answer carries the app's CORS headers, the function URL's none of its own (Lambda adds
    # the configured ones to every answer; two Access-Control-Allow-Origin values would fail the browser's check)
    assert on_rest.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert not [k for k in on_furl.headers if k.lower().startswith("access-control-")]
    assert "Origin" in on_furl.headers["Vary"]
    assert on_furl.json_body == on_rest.json_body


def test_a_binary_upload_arrives_base64_and_is_stored(furl):
    # The upload form posts multipart bytes; the Lambda service base64-encodes a non-text body
    citizen = citizen_login(furl)
    complete_profile(furl, citizen)
    from tests.conftest import upload

    assert upload(furl, citizen)  # 201 for the form, 204 for the bytes through the function URL


def test_the_per_client_limits_key_on_the_function_urls_source_ip(app, client, monkeypatch):
    # Given the per-client OTP limit lowered to 2 an hour
    monkeypatch.setenv("BALAI_OTP_PER_CLIENT_HOUR", "2")
    reset_caches()
    try:
        one, other = FunctionUrlHTTP(app, source_ip="198.51.100.7"), FunctionUrlHTTP(app, source_ip="198.51.100.8")

        def ask(http: FunctionUrlHTTP) -> int:
            body = json.dumps({"nik": random_nik(), "phone": random_phone()})
            return http.post("/v1/auth/otp", headers={"Content-Type": "application/json"}, body=body).status_code

        # When one address asks three times and another once
        results = [ask(one), ask(one), ask(one), ask(other)]
        # Then the third from the first address is refused, the other address is not
        assert results == [202, 202, 429, 202]
    finally:
        monkeypatch.undo()
        reset_caches()


def test_the_event_the_bench_and_tests_build_is_the_documented_shape():
    event = function_url_event("POST", "/v1/auth/otp?x=1&x=2", {"Content-Type": "application/json",
                                                                "Cookie": "a=1; b=2"}, "{}")
    assert event["version"] == "2.0" and event["rawPath"] == "/v1/auth/otp" and event["rawQueryString"] == "x=1&x=2"
    assert event["queryStringParameters"] == {"x": "1,2"} and event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["http"]["method"] == "POST" and event["isBase64Encoded"] is False


def test_staff_login_reads_the_same_on_both(furl, rest):
    body = {"username": f"operator.{SAMATARING}", "password": "wrong-password"}
    a, b = post(furl, "/v1/auth/login", body), post(rest, "/v1/auth/login", body)
    assert a.status_code == b.status_code == 401
    assert a.json_body["code"] == b.json_body["code"]


# ---- gzip-coded answers (chalicelib/api/compression.py) -------------------------------------------------------------
def _sent(http: FunctionUrlHTTP) -> bytes:
    """The body of the last answer as the function URL sends it (base64 undone, still coded)."""
    answer = http.last_answer
    return base64.b64decode(answer["body"]) if answer["isBase64Encoded"] else str(answer["body"]).encode()


def test_a_large_answer_goes_out_gzip_coded_to_a_browser_and_reads_the_same(furl, rest):
    # Given the village's letter types (several KB of JSON), asked by a browser from the web's origin
    path = f"/v1/villages/{SAMATARING}/letter-types"
    on_furl = furl.http.get(path, headers={"Origin": ALLOWED, "Accept-Encoding": BROWSER})
    answer = furl.http.last_answer
    # Then the function URL's answer is gzip-coded, base64 with isBase64Encoded as the Lambda service requires
    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is True
    assert answer["headers"]["Content-Encoding"] == "gzip"
    assert answer["headers"]["Content-Type"].startswith("application/json")
    assert [v.strip() for v in answer["headers"]["Vary"].split(",")] == ["Origin", "Accept-Encoding"]
    # And it decodes to exactly the bytes the REST API answers, at under a third of their size
    plain = rest.http.get(path, headers={"Origin": ALLOWED})
    assert gzip.decompress(_sent(furl.http)) == plain.body and len(_sent(furl.http)) < len(plain.body) / 3
    assert on_furl.json_body == plain.json_body
    # And the REST path is left to API Gateway's own compression (minimum_compression_size): the app sends it plain
    assert "Content-Encoding" not in plain.headers


@pytest.mark.parametrize("accept_encoding", [None, "gzip;q=0", "identity", "br", "*;q=0"])
def test_not_gzip_coded_when_the_client_does_not_accept_it(furl, accept_encoding):
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    on_furl = furl.http.get(f"/v1/villages/{SAMATARING}/letter-types", headers=headers)
    answer = furl.http.last_answer
    assert answer["isBase64Encoded"] is False and "Content-Encoding" not in answer["headers"]
    assert on_furl.json_body["items"] and json.loads(answer["body"]) == on_furl.json_body
    assert "Accept-Encoding" in answer["headers"]["Vary"]  # a cache keeps the two codings apart


def test_small_answers_and_errors_go_out_as_they_are(furl):
    # A small answer, and a small error, to a browser that accepts gzip: nothing to gain, sent as they are
    small = furl.http.get("/v1/push/vapid-public-key", headers={"Accept-Encoding": BROWSER})
    assert small.status_code == 200 and furl.http.last_answer["isBase64Encoded"] is False
    assert "Content-Encoding" not in furl.http.last_answer["headers"]
    missing = furl.http.get("/v1/track/ZZZZ-ZZZZ", headers={"Accept-Encoding": BROWSER})
    assert missing.status_code in (400, 404) and missing.json_body["code"]
    assert "Content-Encoding" not in furl.http.last_answer["headers"]
    unknown = furl.http.get("/v1/nowhere", headers={"Accept-Encoding": BROWSER})
    assert unknown.status_code == 404 and unknown.json_body["code"] == "route_not_found"


def test_a_large_error_is_gzip_coded_and_keeps_its_status_and_code(furl):
    # Given a citizen whose form carries many fields the letter type does not know (an error listing each one)
    citizen = citizen_login(furl)
    complete_profile(furl, citizen)
    body = {"letter_type": "SKD", "fields": {"keperluan": "Melamar kerja"}, "attachments": {},
            **{f"isian_tambahan_{n}": n for n in range(20)}}
    response = post(furl, f"/v1/villages/{SAMATARING}/requests", body, citizen["token"],
                    headers={"Accept-Encoding": BROWSER})
    # Then the 400 arrives compressed and reads as it always did
    assert response.status_code == 400 and response.json_body["code"] == "unknown_field", response.body
    assert len(response.body) >= 1024 and furl.http.last_answer["headers"]["Content-Encoding"] == "gzip"
    assert gzip.decompress(_sent(furl.http)) == response.body


def test_the_transparency_figures_revalidate_to_304_with_either_coding(furl):
    # Given the public figures of the kabupaten, gzip-coded for a browser, with their (weak) ETag
    path = "/v1/stats/regions/73.07?from=2026-01&to=2026-06"
    first = furl.http.get(path, headers={"Accept-Encoding": BROWSER})
    assert first.status_code == 200 and furl.http.last_answer["headers"]["Content-Encoding"] == "gzip"
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    # When the browser revalidates with the tag it got, or a client with the tag of the plain answer
    for sent_tag in (tag, tag.removeprefix("W/")):
        again = furl.http.get(path, headers={"Accept-Encoding": BROWSER, "If-None-Match": sent_tag})
        # Then 304, with no body and nothing coded
        assert again.status_code == 304 and again.body == b"" and again.headers["ETag"] == tag
        assert "Content-Encoding" not in furl.http.last_answer["headers"]
    plain = furl.http.get(path)
    assert plain.headers["ETag"] == tag and plain.json_body == first.json_body
