"""Comma-separated header lists with weights (Accept, Accept-Encoding: RFC 9110 12.4.2), read one way."""

from __future__ import annotations

from collections.abc import Iterator


def weighted(value: str) -> Iterator[tuple[str, str | None]]:
    """(token lower-cased, its raw `q` parameter or None) for each non-empty item of a header list; what a weight
    means, and which spellings count, is the caller's."""
    for item in value.split(","):
        token, *params = (part.strip() for part in item.split(";"))
        if not token:
            continue
        q = None
        for param in params:
            name, _, raw = param.partition("=")
            if name.strip().lower() == "q":
                q = raw.strip()
        yield token.lower(), q
