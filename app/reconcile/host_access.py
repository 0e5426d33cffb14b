"""Which host paths a deployment may bind-mount. Pure: no I/O, no clock.

Host access is the admin's. A deployment's ``volumes[].source`` that is a path (not a
volume name) binds that path of the host into the container, as root: by default no path
is allowed. An admin allows paths with entries, globally (``MOORAGE_ALLOWED_BIND_PREFIXES``)
or per host (``allowed_bind_prefixes``):

- ``PATH:ro`` allows read-only binds of PATH and of anything below it;
- ``PATH`` allows binds of PATH itself, read-write or read-only. Nothing *below* a
  read-write entry is ever bound: a container that can write PATH could put a symlink
  there (``PATH/x -> /``), and the host follows symlinks when it mounts ``PATH/x``.

Paths are compared lexically, segment by segment (``/data`` never allows ``/database``),
after normalisation (``//`` and ``/./`` collapse, a trailing ``/`` goes); a ``..`` segment
is refused outright, so what is checked is what is mounted.

Escalation paths (``ESCALATION_PATHS``, plus per host the engine's socket and data root)
give root on the host. A broad entry (``/``, ``/var:ro``) never unlocks them: a bind at or
below one needs an entry at or below that escalation path (``/var/run/docker.sock``), and a
bind above one (``/``, ``/var``), which would expose it whole, needs the escalation path
itself listed. The same rule holds for every token, admin included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Each gives root on the host to whoever can write it (most of them even read-only).
ESCALATION_PATHS: tuple[str, ...] = (
    "/bin",  # the host's binaries: replace one root runs
    "/boot",  # kernel and initrd
    "/dev",  # /dev/mem, /dev/kmsg, raw disks (/dev/sda): the whole machine
    "/etc",  # shadow, sudoers, cron, systemd units, ld.so.preload
    "/home",  # users' ~/.ssh/authorized_keys and shell rc files (a sudoer's are root's)
    "/lib",  # shared libraries root loads
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",  # /proc/1/root is the host's root; /proc/sys/kernel/core_pattern runs as root
    "/root",  # root's home
    "/run",  # docker.sock, containerd, systemd and D-Bus sockets
    "/sbin",
    "/sys",  # cgroup release_agent, uevent_helper, kernel parameters
    "/tmp",  # other users' sockets (tmux, ssh-agent) and files root may run
    "/usr",  # binaries and libraries (/bin, /lib and /sbin are often links into it)
    "/var/lib/containerd",  # every container's filesystem and the images
    "/var/lib/containers",  # podman and CRI-O storage
    "/var/lib/docker",  # the engine's data: every container's filesystem, the images
    "/var/run",  # the usual link to /run: /var/run/docker.sock
    "/var/spool/cron",  # crontabs, root's included
)

# A named volume (the engine makes it under its data root); anything else is a host path.
VOLUME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# A bind is "SOURCE:TARGET:MODE" to the engine, so a ':' would change what is mounted.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f:]")


def normalise(path: str) -> str:
    """The canonical form of an absolute host path; ValueError when it is not one."""
    if not path.startswith("/"):
        raise ValueError(f"a host path must be absolute (start with '/'), not {path!r}")
    if bad := _FORBIDDEN.search(path):
        raise ValueError(f"a host path must not contain {bad.group()!r}")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"'..' is not allowed in a host path ({path!r})")
    return "/" + "/".join(parts)


def within(path: str, prefix: str) -> bool:
    """``path`` is ``prefix`` or below it, by whole segments (both normalised)."""
    return path == prefix or prefix == "/" or path.startswith(prefix + "/")


@dataclass(frozen=True)
class AllowEntry:
    """One admin-allowed host path: ``/srv/app`` (that path, read-write) or ``/srv:ro``
    (read-only, it and anything below it)."""

    path: str
    read_only: bool = False

    @classmethod
    def parse(cls, text: str) -> AllowEntry:
        text = text.strip()
        read_only = False
        for suffix, ro in ((":ro", True), (":rw", False)):
            if text.endswith(suffix):
                text, read_only = text[: -len(suffix)], ro
                break
        return cls(normalise(text), read_only)

    def __str__(self) -> str:
        return f"{self.path}:ro" if self.read_only else self.path


def parse_entries(items: Iterable[str]) -> tuple[AllowEntry, ...]:
    """Entries in the order given, each once; ValueError names the one that is wrong."""
    out: list[AllowEntry] = []
    for item in items:
        try:
            entry = AllowEntry.parse(item)
        except ValueError as exc:
            raise ValueError(f"{item!r}: {exc}") from None
        if entry not in out:
            out.append(entry)
    return tuple(out)


def parse_csv(text: str) -> tuple[AllowEntry, ...]:
    """``MOORAGE_ALLOWED_BIND_PREFIXES``: comma-separated entries; blank means none."""
    return parse_entries(item for item in text.split(",") if item.strip())


@dataclass(frozen=True)
class Bind:
    """A bind mount a deployment asks for. ``problem`` is set when ``source`` is not a
    usable host path at all (stored before the policy existed): no host allows it."""

    index: int  # in the spec's volumes, for error locations
    source: str
    read_only: bool = False
    problem: str = ""


def binds_of(volumes: Iterable[Mapping]) -> tuple[Bind, ...]:
    """The host-path binds among a spec's volumes (named volumes are not host access)."""
    out = []
    for i, volume in enumerate(volumes):
        source = str(volume.get("source", ""))
        read_only = bool(volume.get("read_only"))
        if VOLUME_NAME.fullmatch(source):
            continue
        try:
            out.append(Bind(i, normalise(source), read_only))
        except ValueError as exc:
            out.append(Bind(i, source, read_only, problem=str(exc)))
    return tuple(out)


def protected_paths(extra: Iterable[str | None] = ()) -> tuple[str, ...]:
    """The escalation paths plus ``extra`` ones (a host's engine socket and data root);
    an extra that is not a usable path is left out (it names nothing a bind could reach)."""
    out = list(ESCALATION_PATHS)
    for path in extra:
        if not path:
            continue
        try:
            path = normalise(path)
        except ValueError:
            continue
        if path != "/" and path not in out:
            out.append(path)
    return tuple(out)


def refusal(
    bind: Bind, allow: Sequence[AllowEntry], protected: Sequence[str] = ESCALATION_PATHS
) -> str | None:
    """Why ``allow`` does not allow ``bind`` (None when it does)."""
    if bind.problem:
        return bind.problem
    source = bind.source
    for entry in allow:
        if not entry.read_only and source != entry.path and within(source, entry.path):
            return (f"{source} is below {entry.path}, which containers may write: a symlink "
                    "put there would be followed on the host, so nothing below a read-write "
                    "entry is bound")
    usable = [e for e in allow if bind.read_only or not e.read_only]
    covering = [e for e in usable if e.path == source or (e.read_only and within(source, e.path))]
    if not covering:
        if not allow:
            return (f"{source} is a host path, and none is allowed: an admin allows them "
                    "(MOORAGE_ALLOWED_BIND_PREFIXES, or a host's allowed_bind_prefixes)")
        if not bind.read_only and any(e.read_only and within(source, e.path) for e in allow):
            return f"{source} is allowed read-only only: set read_only: true"
        return (f"{source} is not an allowed host path (a read-write entry allows that very "
                "path, a ':ro' entry read-only binds at or below it)")
    for path in protected:
        if within(source, path):
            if not any(within(e.path, path) for e in covering):
                return (f"{source} is {'' if source == path else 'under '}{path}, which gives "
                        f"root on the host: only an allowed entry at or below {path} unlocks "
                        "it, never a broader one")
        elif within(path, source) and not any(e.path == path for e in usable):
            return (f"{source} contains {path}, which gives root on the host: binding it "
                    f"needs {path} itself allowed as well")
    return None
