"""Key material on disk, for the clients that only take files (TLS certificates and keys
for requests, private keys and known_hosts for ssh).

Each process writes into a folder of its own, readable by this user only: another
process (or installation) on the machine never overwrites or removes files this one
reads. The folder goes when the process exits; those of processes that could not clean
up (killed, or a pool child ending with os._exit) go when the next process writes keys.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path


def _root() -> Path:
    return Path(tempfile.gettempdir()) / f"moorage-keys-{os.getuid()}" / str(os.getpid())


def folder_for(*material: str) -> Path:
    """This process's folder for one set of material (by its hash, not a host name)."""
    return _root() / hashlib.sha256("\0".join(material).encode()).hexdigest()[:32]


@atexit.register
def _remove_own_files() -> None:
    shutil.rmtree(_root(), ignore_errors=True)


@functools.cache
def _remove_files_of_ended_processes() -> None:
    for folder in _root().parent.glob("[0-9]*"):
        try:
            os.kill(int(folder.name), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, OSError):  # not a pid, or another user's (alive)
            continue


def write_private(folder: Path, name: str, text: str) -> str:
    """Write ``text`` to ``folder/name``, readable by this user only. The file is written
    aside and renamed into place, so a reader never sees half of one."""
    _remove_files_of_ended_processes()
    folder.parent.parent.mkdir(exist_ok=True, mode=0o700)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, staged = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    with os.fdopen(fd, "w") as fh:  # mkstemp makes it 0600
        fh.write(text)
    os.replace(staged, folder / name)
    return str(folder / name)
