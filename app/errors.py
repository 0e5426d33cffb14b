"""The application's error hierarchy, rendered as RFC 9457 problem+json by app.api."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 500
    title: str = "Internal Server Error"
    type_slug: str = "about:blank"

    def __init__(
        self,
        detail: str = "",
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers = headers or {}


class NotFound(AppError):
    status, title, type_slug = 404, "Not Found", "not-found"


class Conflict(AppError):
    status, title, type_slug = 409, "Conflict", "conflict"


class PreconditionFailed(AppError):
    status, title, type_slug = 412, "Precondition Failed", "precondition-failed"


class Invalid(AppError):
    """A request that is well-formed but asks for something impossible."""

    status, title, type_slug = 422, "Unprocessable Content", "validation-error"

    def __init__(self, detail: str, *, loc: list[str | int] | None = None) -> None:
        errors = [{"loc": loc or [], "msg": detail, "type": "value_error"}]
        super().__init__(detail, extra={"errors": errors})


class Unauthorized(AppError):
    """No credentials, or credentials that prove nothing (RFC 6750: answer with a
    ``WWW-Authenticate: Bearer`` challenge)."""

    status, title, type_slug = 401, "Unauthorized", "unauthorized"

    def __init__(
        self, detail: str, *, error: str | None = "invalid_token", challenge: str | None = None
    ) -> None:
        if challenge is None:
            challenge = 'Bearer realm="moorage"' + (f', error="{error}"' if error else "")
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status, title, type_slug = 403, "Forbidden", "forbidden"

    def __init__(self, detail: str, *, scope: str | None = None) -> None:
        headers = None
        if scope:
            headers = {"WWW-Authenticate":
                       f'Bearer realm="moorage", error="insufficient_scope", scope="{scope}"'}
        super().__init__(detail, headers=headers)


class PayloadTooLarge(AppError):
    status, title, type_slug = 413, "Content Too Large", "body-too-large"


class TooManyRequests(AppError):
    status, title, type_slug = 429, "Too Many Requests", "rate-limited"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class ServiceUnavailable(AppError):
    status, title, type_slug = 503, "Service Unavailable", "unavailable"


class CommitFailed(ServiceUnavailable):
    """The transaction could not be committed: nothing of the request took effect."""

    def __init__(self, retry_after_s: int = 1) -> None:
        super().__init__(
            "the change could not be committed and nothing was changed; retry",
            headers={"Retry-After": str(retry_after_s)},
        )


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached: the API answers again once it can, by itself."""

    def __init__(self, retry_after_s: int = 2) -> None:
        super().__init__("the database is unavailable; retry shortly",
                         headers={"Retry-After": str(retry_after_s)})
