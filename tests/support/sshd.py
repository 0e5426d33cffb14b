"""An ssh daemon on 127.0.0.1 that leads to one private engine, as an ``ssh://`` host does.

`start_sshd` runs ``/usr/sbin/sshd -D -e -f <folder>/sshd_config`` listening on
127.0.0.1:`port` only, with its own host key, pid file and authorized_keys (Debian:
openssh-server; keys by ssh-keygen from openssh-client). The one authorized key may run
nothing but ``docker -H unix://<engine socket> system dial-stdio``, whatever the client
asks for, so logging in with it reaches that engine and nothing else.

    server = start_sshd(Path("/tmp/moorage-engines/e15/ssh"), 12315, engine.socket)
    server.url                       # ssh://root@127.0.0.1:12315
    server.key("client")             # the authorized private key (OpenSSH text)
    server.known_hosts()             # "[127.0.0.1]:12315 ssh-ed25519 AAAA..."
    server.stop()

Safe to repeat: keys are made once per folder, and a daemon already running with the
same config is reused.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.dockerd import EngineUnavailable, _docker_cli

LOOPBACK = "127.0.0.1"
_SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"
# Host key, the authorized client key, and one nobody authorized (or trusts as a host).
_KEYS = ("host", "client", "stranger")
_BACKGROUND = '"$@" </dev/null >>"$MOORAGE_SSHD_LOG" 2>&1 & echo $!'


def _which(tool: str) -> str | None:
    return shutil.which(tool, path=f"{os.environ.get('PATH', '')}:{_SBIN_PATH}")


@dataclass(frozen=True)
class SSHServer:
    folder: Path
    port: int

    @property
    def user(self) -> str:
        return getpass.getuser()

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@{LOOPBACK}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.folder / "sshd_config"

    @property
    def pidfile(self) -> Path:
        return self.folder / "sshd.pid"

    @property
    def logfile(self) -> Path:
        return self.folder / "sshd.log"

    def key_path(self, name: str) -> Path:
        if name not in _KEYS:
            raise ValueError(f"no key {name!r}; one of {_KEYS}")
        return self.folder / f"{name}_ed25519"

    def key(self, name: str) -> str:
        """A private key, as OpenSSH text."""
        return self.key_path(name).read_text()

    def public_key(self, name: str) -> str:
        return Path(f"{self.key_path(name)}.pub").read_text().strip()

    def known_hosts(self, key: str = "host") -> str:
        """A known_hosts line saying this daemon's host key is `key`'s."""
        algorithm, blob = self.public_key(key).split()[:2]
        return f"[{LOOPBACK}]:{self.port} {algorithm} {blob}\n"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return None
        return pid if comm == "sshd" and state != "Z" else None

    def answers(self) -> bool:
        """Whether something on the port speaks ssh (reads the server's banner)."""
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=2) as conn:
                return conn.recv(64).startswith(b"SSH-2.0-")
        except OSError:
            return False

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.pid() == pid:
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        self.pidfile.unlink(missing_ok=True)


def _config(server: SSHServer) -> str:
    return f"""\
Port {server.port}
ListenAddress {LOOPBACK}
HostKey {server.key_path("host")}
PidFile {server.pidfile}
AuthorizedKeysFile {server.folder / "authorized_keys"}
AllowUsers {server.user}
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
PrintMotd no
LogLevel VERBOSE
"""


def _make_keys(folder: Path) -> None:
    keygen = _which("ssh-keygen")
    if keygen is None:
        raise EngineUnavailable("ssh-keygen not found (apt-get install openssh-client)")
    for name in _KEYS:
        path = folder / f"{name}_ed25519"
        if path.is_file() and Path(f"{path}.pub").is_file():
            continue
        path.unlink(missing_ok=True)
        Path(f"{path}.pub").unlink(missing_ok=True)
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", f"moorage-test-{name}",
                        "-f", str(path)], check=True, capture_output=True)


def start_sshd(folder: Path, port: int, engine_socket: Path, timeout: float = 10.0) -> SSHServer:
    """sshd on 127.0.0.1:`port`, where the client key reaches the engine at `engine_socket`."""
    sshd = _which("sshd")
    if sshd is None:
        raise EngineUnavailable("sshd not found (apt-get install openssh-server)")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    server = SSHServer(folder, port)
    _make_keys(folder)
    forced = f"{_docker_cli()} -H unix://{engine_socket} system dial-stdio"
    authorized = f'command="{forced}",restrict {server.public_key("client")}\n'
    config = _config(server)
    unchanged = (server.config_file.is_file() and server.config_file.read_text() == config
                 and (folder / "authorized_keys").is_file()
                 and (folder / "authorized_keys").read_text() == authorized)
    if unchanged and server.pid() is not None and server.answers():
        return server
    server.stop()
    (folder / "authorized_keys").write_text(authorized)
    server.config_file.write_text(config)
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation: must exist
    check = subprocess.run([sshd, "-t", "-f", str(server.config_file)], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"sshd rejects {server.config_file}: {check.stderr.strip()}")
    # A shell backgrounds sshd and exits: the daemon is reparented to init and never
    # lingers as our zombie. (sshd must be started by its absolute path to re-exec.)
    launcher = subprocess.run(
        ["/bin/sh", "-c", _BACKGROUND, "sh", sshd, "-D", "-e", "-f", str(server.config_file)],
        env={**os.environ, "MOORAGE_SSHD_LOG": str(server.logfile)},
        capture_output=True, text=True, check=True, start_new_session=True)
    launched = int(launcher.stdout.strip())
    deadline = time.monotonic() + timeout
    while not (server.pid() is not None and server.answers()):
        if not Path(f"/proc/{launched}").exists() or time.monotonic() > deadline:
            raise RuntimeError(f"sshd on {LOOPBACK}:{port} did not come up:\n{server.log_tail()}")
        time.sleep(0.05)
    return server
