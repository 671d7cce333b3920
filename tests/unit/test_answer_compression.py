"""Gzip of the API's answers (chalicelib/api/compression.py): who accepts it, which answers get it, and that the
bytes come back the same; local mode's gateway gives a browser what the function URL gives it."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from chalice import Response
from chalice.test import Client

from chalicelib.api.compression import MIN_BYTES, accepts_gzip, compress_answer
from chalicelib.api.function_url import BalaiApp

BIG = json.dumps({"items": [{"code": f"73.07.03.{n:04d}", "name": f"Desa Contoh {n}", "active": True}
                            for n in range(60)]}, ensure_ascii=False)
JSON = "application/json; charset=utf-8"


def answer(body: Any = BIG, status: int = 200, **headers: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": JSON, **headers}, "body": body,
            "isBase64Encoded": False}


def unpacked(out: dict[str, Any]) -> str:
    return gzip.decompress(base64.b64decode(out["body"])).decode()


@pytest.mark.parametrize(("header", "accepted"), [
    ("gzip, deflate, br", True),  # Chromium
    ("gzip, deflate, br, zstd", True),  # newer Chromium
    ("gzip", True),
    ("GZip;Q=0.5", True),
    ("deflate, gzip;q=1.0, *;q=0.5", True),
    ("x-gzip", True),  # RFC 9110 8.4.1.3: the same coding
    ("*", True),
    ("br;q=1, *;q=0.1", True),
    ("gzip;q=0", False),  # named and refused
    ("gzip;q=0.000", False),
    ("*, gzip;q=0", False),  # the named coding wins over *
    ("gzip;q=0, *", False),
    ("*;q=0", False),
    ("identity", False),
    ("br, deflate", False),
    ("gzip;q=2", False),  # not a weight: refused rather than guessed
    ("gzip;q=abc", False),
    ("", False),
    (None, False),
])
def test_accept_encoding_is_read_with_its_weights(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_a_large_json_answer_is_gzip_coded_and_decodes_to_the_same_bytes() -> None:
    # Given a JSON answer above the threshold, with the CORS Vary and a strong ETag
    given = answer(Vary="Origin", ETag='"abc"')
    # When the client accepts gzip
    out = compress_answer(given, "gzip, deflate, br")
    # Then it goes out gzip-coded, base64 as a function URL needs, and decodes to exactly the same body
    assert out["isBase64Encoded"] is True and out["headers"]["Content-Encoding"] == "gzip"
    assert unpacked(out) == BIG and len(base64.b64decode(out["body"])) < len(BIG) / 3
    # And caches are told it varies by Accept-Encoding (the CORS Origin kept); the ETag becomes weak
    assert out["headers"]["Vary"] == "Origin, Accept-Encoding" and out["headers"]["ETag"] == 'W/"abc"'
    assert out["statusCode"] == 200 and out["headers"]["Content-Type"] == JSON
    # And the given answer is not changed
    assert given["body"] == BIG and "Content-Encoding" not in given["headers"]


def test_rest_shaped_answers_keep_their_multi_value_headers() -> None:
    given = {**answer(), "multiValueHeaders": {"Vary": ["Origin"], "Set-Cookie": ["a=1", "b=2"]}}
    out = compress_answer(given, "gzip")
    assert out["multiValueHeaders"] == {"Vary": ["Origin", "Accept-Encoding"], "Set-Cookie": ["a=1", "b=2"]}
    assert "Vary" not in out["headers"] and unpacked(out) == BIG


@pytest.mark.parametrize("header", [None, "gzip;q=0", "identity", "br"])
def test_not_compressed_when_gzip_is_not_accepted_but_caches_are_told(header: str | None) -> None:
    out = compress_answer(answer(Vary="Origin"), header)
    assert out["body"] == BIG and not out["isBase64Encoded"] and "Content-Encoding" not in out["headers"]
    assert out["headers"]["Vary"] == "Origin, Accept-Encoding"


@pytest.mark.parametrize(("name", "given", "method"), [
    ("small", answer("x" * (MIN_BYTES - 1)), "GET"),
    ("PDF, already base64", {"statusCode": 200, "headers": {"Content-Type": "application/pdf"},
                             "body": base64.b64encode(BIG.encode()).decode(), "isBase64Encoded": True}, "GET"),
    ("image as text", answer(Vary="Origin", **{"Content-Type": "image/svg"}), "GET"),
    ("already coded", answer(**{"Content-Encoding": "br"}), "GET"),
    ("already coded, any case", answer(**{"content-encoding": "gzip"}), "GET"),
    ("304", answer("", 304, ETag='W/"abc"'), "GET"),
    ("204", answer("", 204), "GET"),
    ("redirect", {"statusCode": 302, "headers": {"Location": "https://web.example/verifikasi/"}, "body": "",
                  "isBase64Encoded": False}, "GET"),
    ("HEAD", answer(), "HEAD"),
])
def test_answers_that_are_never_compressed(name: str, given: dict[str, Any], method: str) -> None:
    assert compress_answer(given, "gzip, deflate, br", method) == given, name


def test_text_types_other_than_json_are_compressed_and_a_missing_type_is_chalices_json() -> None:
    csv_text = "kabupaten_code,village_code,month,requests\n" + "73.07,73.07.03.1001,2026-01,12\n" * 60
    out = compress_answer({"statusCode": 200, "headers": {"Content-Type": "text/csv; charset=utf-8"},
                           "body": csv_text, "isBase64Encoded": False}, "gzip")
    assert unpacked(out) == csv_text
    bare = compress_answer({"statusCode": 200, "headers": {}, "body": BIG}, "gzip")
    assert unpacked(bare) == BIG


def test_a_large_error_answer_keeps_its_status_and_body() -> None:
    error = json.dumps({"code": "unknown_field", "message": "Ada isian yang tidak dikenal.",
                        "fields": [{"field": f"isian_{n}", "message": "Extra inputs are not permitted",
                                    "type": "extra_forbidden"} for n in range(20)]})
    out = compress_answer(answer(error, 400), "gzip")
    assert out["statusCode"] == 400 and json.loads(unpacked(out))["code"] == "unknown_field"


def test_never_compressed_twice() -> None:
    once = compress_answer(answer(), "gzip")
    assert compress_answer(once, "gzip") == once


def toy_app() -> BalaiApp:
    app = BalaiApp(app_name="toy", configure_logs=False)

    @app.route("/big", methods=["GET"])
    def big() -> Response:
        return Response(BIG, headers={"Content-Type": JSON})

    @app.route("/small", methods=["GET"])
    def small() -> Response:
        return Response('{"ok": true}', headers={"Content-Type": JSON})

    return app


def test_local_modes_gateway_serves_what_the_function_url_serves() -> None:
    # Given local mode's gateway (make run serves the API through chalice local with it)
    from localmode import gateway

    gateway.apply()
    from tests.function_url_support import FunctionUrlHTTP

    app = toy_app()
    furl = FunctionUrlHTTP(app)
    with Client(app) as local:
        for path in ("/big", "/small"):
            for header in ("gzip, deflate, br", "gzip;q=0"):
                # When a browser asks both for the same answer
                here = local.http.get(path, headers={"Accept-Encoding": header})
                furl.get(path, headers={"Accept-Encoding": header})
                cloud = furl.last_answer
                sent = base64.b64decode(cloud["body"]) if cloud["isBase64Encoded"] else cloud["body"].encode()
                # Then the same bytes and the same coding headers come back
                assert here.body == sent, (path, header)
                for name in ("Content-Encoding", "Vary"):
                    assert here.headers.get(name) == cloud["headers"].get(name), (path, header, name)
        big = local.http.get("/big", headers={"Accept-Encoding": "gzip"})
        assert big.headers["Content-Encoding"] == "gzip" and gzip.decompress(big.body).decode() == BIG
