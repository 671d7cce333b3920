"""Gzip for the API's text answers, for clients that accept it: fewer bytes over a village's slow link.

`compress_answer` takes a Lambda proxy answer (the REST shape Chalice returns or the function URL's: `statusCode`,
`headers`, `body`, `isBase64Encoded`; REST's `multiValueHeaders` are read and kept) and the request's
`Accept-Encoding`, and returns it gzip-coded, base64 in the body with `isBase64Encoded: true` (what a function URL
needs for bytes), when all of these hold:
- the client accepts gzip (`accepts_gzip`: q-values read, `gzip;q=0` refuses it, `*` covers it unless gzip is
  named with q=0);
- the answer is text (JSON, `text/*`, XML; no Content-Type is Chalice's default JSON), is not already base64 (PDFs,
  images: binary, mostly compressed already) and has no Content-Encoding of its own (never twice);
- it is a status that carries a body (not 1xx, 204, 304) to a method whose answer has one (not HEAD);
- the body is at least `MIN_BYTES` (below that the saving is a few hundred bytes at best, the whole answer with its
  headers already fits in one TCP segment, and the gzip header and trailer plus `Content-Encoding`/`Vary` cost ~60
  of them: bench/answer_gzip.py measures it), and the gzip is smaller than the body.
Every answer that is text and at least `MIN_BYTES` gets `Vary: Accept-Encoding`, compressed or not, so a cache
never hands one client's coding to another. A strong ETag on a compressed answer becomes weak (`W/`): the gzip
bytes are another representation of the same content (RFC 9110 8.8.1), which weak comparison, what If-None-Match
uses, still matches.

`LEVEL` is zlib's compression level, chosen by measurement on the answers the cost sample produces
(bench/answer_gzip.py; README, Measurements): the CPU time is billed as the API function's duration.
"""

from __future__ import annotations

import base64
import gzip
import re
from typing import Any

from chalicelib.api.negotiation import weighted

MIN_BYTES = 1024
LEVEL = 6
_QVALUE = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript", "application/geo+json"})
NO_BODY_STATUSES = frozenset({204, 304})


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when an Accept-Encoding header value accepts gzip (RFC 9110 12.5.3): gzip (or x-gzip) named with a
    non-zero weight, or `*` with a non-zero weight and gzip not named. An unreadable weight counts as 0."""
    if not accept_encoding:
        return False
    named: float | None = None
    anything: float | None = None
    for coding, raw in weighted(accept_encoding):
        q = 1.0 if raw is None else float(raw) if _QVALUE.fullmatch(raw) else 0.0
        if coding in ("gzip", "x-gzip"):
            named = q if named is None else max(named, q)
        elif coding == "*":
            anything = q if anything is None else max(anything, q)
    if named is not None:
        return named > 0
    return anything is not None and anything > 0


def is_text(content_type: str | None) -> bool:
    """Text worth compressing: JSON, XML, JavaScript, any text/*; no Content-Type is Chalice's JSON default."""
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def _find(answer: dict[str, Any], name: str) -> tuple[str, str, Any] | None:
    """(where, key, value) of a header in the answer's `headers` or `multiValueHeaders`, by any case."""
    for where in ("headers", "multiValueHeaders"):
        for key, value in (answer.get(where) or {}).items():
            if str(key).lower() == name:
                return where, str(key), value
    return None


def _value(found: tuple[str, str, Any] | None) -> str | None:
    if found is None:
        return None
    value = found[2]
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _add_vary(answer: dict[str, Any]) -> None:
    found = _find(answer, "vary")
    current = [v.strip() for v in (_value(found) or "").split(",") if v.strip()]
    if any(v.lower() in ("accept-encoding", "*") for v in current):
        return
    if found is None:
        answer["headers"]["Vary"] = "Accept-Encoding"
    elif found[0] == "multiValueHeaders":
        answer["multiValueHeaders"][found[1]] = [*found[2], "Accept-Encoding"]
    else:
        answer["headers"][found[1]] = ", ".join([*current, "Accept-Encoding"])


def compress_answer(answer: dict[str, Any], accept_encoding: str | None, method: str = "GET") -> dict[str, Any]:
    """The answer gzip-coded when the rules above allow it (a new dict; the given one is not changed)."""
    status = int(answer.get("statusCode", 200))
    if method.upper() == "HEAD" or status < 200 or status in NO_BODY_STATUSES or answer.get("isBase64Encoded"):
        return answer
    if _find(answer, "content-encoding") is not None or not is_text(_value(_find(answer, "content-type"))):
        return answer
    body = answer.get("body") or ""
    raw = body if isinstance(body, bytes) else str(body).encode("utf-8")
    if len(raw) < MIN_BYTES:
        return answer
    out = {**answer, "headers": dict(answer.get("headers") or {})}
    if "multiValueHeaders" in answer:
        out["multiValueHeaders"] = {k: list(v) for k, v in (answer.get("multiValueHeaders") or {}).items()}
    _add_vary(out)
    if not accepts_gzip(accept_encoding):
        return out
    data = gzip.compress(raw, compresslevel=LEVEL, mtime=0)
    if len(data) >= len(raw):
        return out
    for where in ("headers", "multiValueHeaders"):
        for key in [k for k in (out.get(where) or {}) if str(k).lower() == "content-length"]:
            del out[where][key]
    etag = _find(out, "etag")
    if etag is not None and not str(_value(etag)).startswith("W/"):
        weak = f"W/{_value(etag)}"
        out[etag[0]][etag[1]] = [weak] if etag[0] == "multiValueHeaders" else weak
    out["headers"]["Content-Encoding"] = "gzip"
    out["body"] = base64.b64encode(data).decode("ascii")
    out["isBase64Encoded"] = True
    return out


def header_value(headers: dict[str, Any] | None, name: str) -> str | None:
    """A request header's value by any case (the function URL lower-cases names; http.server keeps them)."""
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return str(value)
    return None
