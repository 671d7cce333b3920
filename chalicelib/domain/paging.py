"""List paging rules shared by every paginated list: the page size a client may ask for."""

from __future__ import annotations

from chalicelib.errors import ValidationError

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_limit(limit: int | None) -> int:
    """The page size: DEFAULT_PAGE when not given, else 1..MAX_PAGE. Raises ValidationError(invalid_limit)."""
    if limit is None:
        return DEFAULT_PAGE
    if isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit harus 1 sampai {MAX_PAGE}.", code="invalid_limit")
    return limit
