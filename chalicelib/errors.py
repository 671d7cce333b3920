"""AppError and its subclasses: one error hierarchy, each with its HTTP status and a stable code."""

from __future__ import annotations

from typing import Any


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

    def with_status(self, status: int) -> AppError:
        self.status = status
        return self

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
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


class ConflictError(AppError):
    status = 409
    code = "conflict"


class TooManyRequestsError(AppError):
    status = 429
    code = "too_many_requests"


class ExternalServiceError(AppError):
    status = 502
    code = "external_service_error"
