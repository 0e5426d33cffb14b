"""Optimistic concurrency: If-Match against a resource_version."""

from __future__ import annotations

from app.errors import PreconditionFailed


def check_if_match(if_match: str | None, resource_version: int | None) -> None:
    """RFC 9110 If-Match against our integer resource_version (ETag ``"<n>"``)."""
    if if_match is None:
        return
    if resource_version is None:
        raise PreconditionFailed("If-Match given but the resource does not exist")
    if if_match.strip() == "*":
        return
    tags = {t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")}
    if str(resource_version) not in tags:
        raise PreconditionFailed(
            f"If-Match {if_match} does not match the current version \"{resource_version}\""
        )
