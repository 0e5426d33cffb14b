"""Engines behind ``ssh://``: the system ``ssh`` runs ``docker system dial-stdio`` on the
host, and the Docker API goes over its stdin and stdout.

Modelled on the shell-out path of the Docker SDK's own transport (docker/transport/
sshconn.py), which cannot be used as it is: that module imports paramiko when it is
loaded, and it runs ``ssh`` with no way to name a key, a known_hosts file or options.
With a host's own key and known_hosts, every connection runs

    ssh -F none -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none -i KEY
        -o UserKnownHostsFile=KNOWN_HOSTS -o GlobalKnownHostsFile=none
        -o StrictHostKeyChecking=yes -o ConnectTimeout=T -p PORT -l USER -- HOST
        docker system dial-stdio

(without them, ``ssh -o BatchMode=yes -o ConnectTimeout=T [-p PORT] [-l USER] -- HOST
...`` with the process's own ssh config). What ssh says when it gives up, such as "Host
key verification failed." or "Permission denied (publickey).", becomes the connection
error, so it reaches whoever asked.
"""

from __future__ import annotations

import io
import math
import os
import select
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import docker
import urllib3
from docker.transport.basehttpadapter import BaseHTTPAdapter

_REMOTE_COMMAND = ("docker", "system", "dial-stdio")
_STDERR_TAIL = 2000  # bytes of ssh's complaint kept for the error


@dataclass(frozen=True)
class SSHTarget:
    """Where and how to run ssh. Without files, the process's own ssh config applies."""

    host: str
    user: str | None = None
    port: int | None = None
    key_file: str | None = None
    known_hosts_file: str | None = None
    # Called before each ssh process starts: (re)writes the files if they are gone.
    write_files: Callable[[], None] | None = field(default=None, compare=False)

    @classmethod
    def from_url(cls, url: str, key_file: str | None = None, known_hosts_file: str | None = None,
                 write_files: Callable[[], None] | None = None) -> SSHTarget:
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            raise ValueError(f"not an ssh://[user@]host[:port] url: {url}")
        return cls(parts.hostname, parts.username, parts.port, key_file, known_hosts_file,
                   write_files)

    def command(self, connect_timeout: float | None) -> list[str]:
        if self.write_files is not None:
            self.write_files()
        ssh = shutil.which("ssh")
        if ssh is None:
            raise FileNotFoundError("the ssh client is not installed (Debian: openssh-client)")
        args = [ssh]
        if self.key_file:
            args += ["-F", "none", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                     "-o", "IdentityAgent=none", "-i", self.key_file]
        else:
            args += ["-o", "BatchMode=yes"]  # never a prompt a worker cannot answer
        if self.known_hosts_file:
            args += ["-o", f"UserKnownHostsFile={self.known_hosts_file}",
                     "-o", "GlobalKnownHostsFile=none", "-o", "StrictHostKeyChecking=yes"]
        if connect_timeout:
            args += ["-o", f"ConnectTimeout={max(1, math.ceil(connect_timeout))}"]
        if self.port:
            args += ["-p", str(self.port)]
        if self.user:
            args += ["-l", self.user]
        return [*args, "--", self.host, *_REMOTE_COMMAND]


class _SSHSocket:
    """What http.client and urllib3 use of a socket, over one ssh process's pipes."""

    def __init__(self, target: SSHTarget, timeout: float | None) -> None:
        self._target = target
        self._timeout = timeout
        # A file, never a pipe ssh could fill and block on; closed in close().
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                target.command(timeout), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._stderr, bufsize=0)
        except BaseException:
            self._stderr.close()
            raise

    # urllib3 polls this to see whether an idle connection was dropped: readable = EOF.
    def fileno(self) -> int:
        return self._proc.stdout.fileno()

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def _wait(self, fd: int, event: int) -> None:
        poller = select.poll()
        poller.register(fd, event)
        timeout_ms = None if self._timeout is None else int(self._timeout * 1000)
        if not poller.poll(timeout_ms):
            raise TimeoutError(f"ssh {self._target.host}: no answer within {self._timeout:g}s")

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        fd = self._proc.stdin.fileno()
        try:
            while view:
                self._wait(fd, select.POLLOUT)
                view = view[os.write(fd, view):]
        except BrokenPipeError:
            self._raise_failure()
            raise

    def recv_into(self, buffer) -> int:
        fd = self.fileno()
        self._wait(fd, select.POLLIN)
        count = os.readv(fd, [buffer])
        if count == 0:
            self._raise_failure()  # a clean EOF is left to http.client to judge
        return count

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        return _ResponseFile(_Reader(self))

    def _raise_failure(self) -> None:
        """ssh closed its end: if it failed, raise what it said."""
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return
        if code == 0:
            return
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - _STDERR_TAIL))
        said = "; ".join(line.strip() for line in self._stderr.read().decode(errors="replace")
                         .splitlines() if self._worth_saying(line))
        raise ConnectionError(f"ssh to {self._target.host} failed (exit {code}): "
                              f"{said or 'no message'}")

    def _worth_saying(self, line: str) -> bool:
        # Not the banner of @s, nor advice to edit files of ours the reader cannot see.
        files = [f for f in (self._target.key_file, self._target.known_hosts_file) if f]
        text = line.strip()
        return bool(text.strip("@")) and text != "remove with:" and not any(
            os.path.dirname(f) in text for f in files)

    def close(self) -> None:
        proc = self._proc
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdin, proc.stdout, self._stderr):
            stream.close()


class _Reader(io.RawIOBase):
    """The read side of an `_SSHSocket`, as a file; closing it leaves the socket open
    (as a real socket's makefile does)."""

    def __init__(self, sock: _SSHSocket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)


class _ResponseFile(io.BufferedReader):
    """The file http.client reads an answer from. The SDK reads a hijacked stream (an
    exec's output, an attach) of an ``ssh://`` client from ``response.raw._fp.fp.channel``,
    paramiko's name for the connection: without it, every exec over ssh (an edge's
    ``caddy reload``) failed after it had run, AttributeError 'channel'."""

    @property
    def channel(self) -> _Channel:
        return _Channel(self)


class _Channel:
    """What the SDK's socket helpers use of a connection (docker/utils/socket.py): a file
    descriptor to poll, and ``recv``. Read through the file's buffer, which may hold the
    stream's first bytes: http.client reads ahead of the headers it parses. (Poll then
    waits for more or for the end, which a hijacked stream always reaches: the engine
    closes it when the exec ends.)"""

    def __init__(self, file: _ResponseFile) -> None:
        self._file = file

    @property
    def _sock(self) -> _SSHSocket:
        return self._file.raw._sock  # noqa: SLF001 (our own reader's)

    def fileno(self) -> int:
        return self._sock.fileno()

    def recv(self, n: int) -> bytes:
        return self._file.read1(n)

    # A followed stream (logs) may be quiet for long: the SDK lifts the timeout.
    def settimeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def gettimeout(self) -> float | None:
        return self._sock.gettimeout()


class _SSHConnection(urllib3.connection.HTTPConnection):
    def __init__(self, target: SSHTarget, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._target = target

    def connect(self) -> None:
        self.sock = _SSHSocket(self._target, self.timeout)


class _SSHConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    def __init__(self, target: SSHTarget, timeout: float, maxsize: int) -> None:
        super().__init__("localhost", timeout=timeout, maxsize=maxsize)
        self._target = target

    def _new_conn(self) -> _SSHConnection:
        return _SSHConnection(self._target, self.timeout.connect_timeout)


class SSHHTTPAdapter(BaseHTTPAdapter):
    """One pool of ssh processes, each kept open and reused like a keep-alive socket."""

    def __init__(self, target: SSHTarget, timeout: float, max_pool_size: int) -> None:
        self._target = target
        self._timeout = timeout
        self._max_pool_size = max_pool_size
        self._pool: _SSHConnectionPool | None = None
        self._lock = threading.Lock()
        super().__init__()

    def get_connection(self, url, proxies=None) -> _SSHConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = _SSHConnectionPool(self._target, self._timeout, self._max_pool_size)
            return self._pool

    def close(self) -> None:
        super().close()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def api_client(client_class: type[docker.APIClient], target: SSHTarget, timeout: float,
               max_pool_size: int = docker.constants.DEFAULT_MAX_POOL_SIZE) -> docker.APIClient:
    """A client speaking through ssh, set up as the SDK sets up its own for ssh://.

    The SDK builds its ssh adapter only for an ``ssh://`` base url, so the client is made
    for a placeholder socket with a fixed API version (which connects nowhere), given the
    ssh adapter in its place, and then negotiates the version as usual.
    """
    client = client_class(base_url="unix:///nonexistent", timeout=timeout,
                          version=docker.constants.MINIMUM_DOCKER_API_VERSION)
    client.adapters.pop("http+docker://").close()
    client._custom_adapter = SSHHTTPAdapter(target, timeout, max_pool_size)
    client.mount("http+docker://ssh", client._custom_adapter)
    client.base_url = "http+docker://ssh"
    try:
        client._version = client._retrieve_server_version()
    except BaseException:
        client.close()
        raise
    return client
