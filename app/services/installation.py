"""Who this installation is: the id its containers are labelled with and the key its
template and spec hashes are made with, both stored in the database (migration 0012).

Read once per process and database, then kept: neither ever changes. The cache is keyed
by the database URL without its password, so a process pointed at another database
reads that one's, and a rotated password changes nothing.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from app.repositories import installation as installation_repo

_lock = threading.Lock()
_known: dict[str, tuple[str, bytes]] = {}


class InstallationMissing(RuntimeError):
    """The database has no installation row: it was not made by `moorage migrate`."""


def _database(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _load(session: Session) -> tuple[str, bytes]:
    # Through the caller's session: a second transaction would, on SQLite, wait for it.
    where = _database(session)
    with _lock:
        known = _known.get(where)
    if known is None:
        row = installation_repo.get(session)
        if row is None:
            raise InstallationMissing(
                "the database has no installation row; run `moorage migrate`")
        known = (row.installation_id, row.hash_key.encode())
        with _lock:
            known = _known.setdefault(where, known)
    return known


def installation_id(session: Session) -> str:
    """The label value of every container this installation makes."""
    return _load(session)[0]


def hash_key(session: Session) -> bytes:
    """The key of every template and spec hash made here. Never leaves the server."""
    return _load(session)[1]
