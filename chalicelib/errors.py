"""AppError and its subclasses: one error hierarchy, each with its HTTP status and a stable code."""

from __future__ import annotations

from typing import Any

# An error answer stays small whatever the input: long detail lists are cut to this many entries.
MAX_DETAIL_ITEMS = 20


class AppError(Exception):
    """An error a client can act on; `message` is shown to people, so it is in Bahasa Indonesia."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details
        self.headers: dict[str, str] = {}

    def with_status(self, status: int) -> AppError:
        self.status = status
        return self

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            details: dict[str, Any] = {}
            for key, value in self.details.items():
                if isinstance(value, list) and len(value) > MAX_DETAIL_ITEMS:
                    details[key] = value[:MAX_DETAIL_ITEMS]
                    details[f"{key}_total"] = len(value)
                else:
                    details[key] = value
            body["details"] = details
        return body


class ValidationError(AppError):
    status = 400
    code = "validation_error"


class UnprocessableError(AppError):
    """Well-formed input that breaks a business rule (unknown letter type, inactive village)."""

    status = 422
    code = "unprocessable"


class UnauthorizedError(AppError):
    status = 401
    code = "unauthorized"


class ForbiddenError(AppError):
    status = 403
    code = "forbidden"


class NotFoundError(AppError):
    status = 404
    code = "not_found"


class GoneError(AppError):
    """410: the thing existed and was deleted on purpose (an attachment past its retention)."""

    status = 410
    code = "gone"


class ConflictError(AppError):
    status = 409
    code = "conflict"


class TooManyRequestsError(AppError):
    """429; `retry_after` (seconds) becomes the Retry-After header and `details.retry_after`."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, code: str | None = None, retry_after: int | None = None,
                 **details: Any) -> None:
        if retry_after is not None:
            retry_after = max(1, int(retry_after))
            details["retry_after"] = retry_after
        super().__init__(message, code, **details)
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)


class ExternalServiceError(AppError):
    status = 502
    code = "external_service_error"
