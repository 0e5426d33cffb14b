"""What text every database Moorage runs on can store (pure: payload parsing and the
repositories both ask)."""

from __future__ import annotations


def storable_text(text: str) -> bool:
    """No NUL (Postgres refuses it in text) and no lone surrogate ("\\ud800" in JSON: no
    UTF-8 encodes it)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
