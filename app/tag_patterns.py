"""A webhook's ``tag_pattern``: a regular expression a caller gives, which every pushed
tag is matched against.

Matched with RE2 (google-re2), not the standard library's ``re``. RE2 takes time linear
in the tag whatever the pattern, so a pattern such as ``(a+)+b`` cannot hold a delivery,
and the deployment row it locks, for ever; a backtracking engine took 2 s on 24
characters of ``a``, doubling with each one more. RE2 has no backreferences and no
lookaround: a pattern that uses them is refused when the webhook is made.
"""

from __future__ import annotations

from functools import lru_cache

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's 422, not a line on stderr


class PatternError(ValueError):
    pass


@lru_cache(maxsize=1024)
def _compiled(pattern: str):  # noqa: ANN202 (re2's compiled type is private)
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        why = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"not a valid RE2 regular expression: {why}") from None


def check(pattern: str) -> None:
    """Raise PatternError, saying why, unless ``pattern`` compiles."""
    _compiled(pattern)


def matches(pattern: str, tag: str) -> bool:
    """Whether the whole of ``tag`` matches. Raises PatternError for a pattern stored
    before patterns were RE2 (one RE2 cannot run)."""
    return _compiled(pattern).fullmatch(tag) is not None
