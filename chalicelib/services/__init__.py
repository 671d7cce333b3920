"""Use cases: (principal, input) -> result; they raise AppError, know nothing of HTTP."""
