"""A private engine reached over ``tcp://127.0.0.1`` with mutual TLS, as a remote host is.

`ensure_certs` makes a throwaway CA, a server certificate for IP 127.0.0.1 and a client
certificate with the ``openssl`` CLI (Debian: openssl); `start_tls_engine` starts an
`Engine` that listens on its unix socket (for setting tests up: images, ``docker ps``)
and on a loopback TCP port that only accepts clients holding a certificate of that CA.

    tls_engine = start_tls_engine(14, 12314)
    tls_engine.url                 # tcp://127.0.0.1:12314
    tls_engine.files.pem("ca")     # PEM text, as a host is registered with
    tls_engine.engine.docker("ps")  # the unix socket, no TLS

Everything is safe to repeat: certificates are made once per engine root (and again
only if some are missing), and a running daemon is reused when it answers over TLS
with them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.dockerd import Engine, EngineUnavailable, _cli_env, _docker_cli

LOOPBACK = "127.0.0.1"
_DAYS = "3650"  # throwaway, but an engine may outlive many sessions

# Our own config, so the machine's openssl.cnf cannot add or change extensions. The
# key identifiers keep strict verifiers (e.g. Python 3.13's VERIFY_X509_STRICT) happy.
_CONFIG = f"""\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = moorage-test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:{LOOPBACK}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

_FILES = ("ca", "ca-key", "server-cert", "server-key", "client-cert", "client-key")


@dataclass(frozen=True)
class TLSFiles:
    """PEM files in `folder`: ca(-key), server-cert/-key, client-cert/-key."""

    folder: Path

    def path(self, name: str) -> Path:
        if name not in _FILES:
            raise ValueError(f"no TLS file {name!r}; one of {_FILES}")
        return self.folder / f"{name}.pem"

    def pem(self, name: str) -> str:
        return self.path(name).read_text()

    def complete(self) -> bool:
        return all(self.path(name).is_file() for name in _FILES)


def ensure_certs(folder: Path) -> TLSFiles:
    """The CA and certificates in `folder`, made now unless all are there already."""
    files = TLSFiles(folder)
    if files.complete():
        return files
    openssl = shutil.which("openssl")
    if openssl is None:
        raise EngineUnavailable("cannot make TLS certificates: openssl not found (apt-get install openssl)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Made aside and renamed into place: a concurrent maker or an interrupted run never
    # leaves a mix of two CAs behind.
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        _make_certs(openssl, tmp)
        if not files.complete():
            shutil.rmtree(folder, ignore_errors=True)  # left half made: start over
        try:
            os.rename(tmp, folder)
        except OSError:
            if not files.complete():  # not a concurrent maker that won
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return files


def _make_certs(openssl: str, out: Path) -> None:
    config = out / "openssl.cnf"
    config.write_text(_CONFIG)

    def run(*args: str) -> None:
        proc = subprocess.run([openssl, *args], cwd=out, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"openssl {args[0]} failed:\n{proc.stderr}")

    def key(name: str) -> None:
        # P-256: a key in milliseconds, where RSA would take a noticeable while.
        run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.pem")
        (out / f"{name}.pem").chmod(0o600)

    key("ca-key")
    run("req", "-config", "openssl.cnf", "-new", "-x509", "-key", "ca-key.pem", "-subj", "/CN=moorage-test-ca",
        "-days", _DAYS, "-sha256", "-extensions", "ca", "-out", "ca.pem")
    for role, subject in (("server", f"/CN={LOOPBACK}"), ("client", "/CN=moorage-test-client")):
        key(f"{role}-key")
        run("req", "-config", "openssl.cnf", "-new", "-key", f"{role}-key.pem", "-subj", subject,
            "-out", f"{role}.csr")
        run("x509", "-req", "-in", f"{role}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
            "-set_serial", f"0x{secrets.token_hex(8)}", "-days", _DAYS, "-sha256",
            "-extfile", "openssl.cnf", "-extensions", role, "-out", f"{role}-cert.pem")
    run("verify", "-CAfile", "ca.pem", "server-cert.pem", "client-cert.pem")


@dataclass(frozen=True)
class TLSEngine:
    """An engine listening on its unix socket and on tcp://127.0.0.1:`port` (TLS only)."""

    engine: Engine
    port: int
    files: TLSFiles

    @property
    def url(self) -> str:
        return f"tcp://{LOOPBACK}:{self.port}"

    def docker_tls(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """The docker CLI over TCP with the client certificate (not checked)."""
        f = self.files
        cmd = [_docker_cli(), "--tlsverify", f"--tlscacert={f.path('ca')}", f"--tlscert={f.path('client-cert')}",
               f"--tlskey={f.path('client-key')}", "-H", self.url, *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=_cli_env(), timeout=timeout)

    def answers_tls(self) -> bool:
        try:
            return self.docker_tls("version", timeout=10).returncode == 0
        except subprocess.TimeoutExpired:
            return False


def tls_args(files: TLSFiles, port: int) -> tuple[str, ...]:
    """dockerd flags: also listen on the loopback port, for clients of our CA only."""
    return (
        f"--host=tcp://{LOOPBACK}:{port}",
        "--tlsverify",
        f"--tlscacert={files.path('ca')}",
        f"--tlscert={files.path('server-cert')}",
        f"--tlskey={files.path('server-key')}",
    )


def start_tls_engine(index: int, port: int, timeout: float = 30.0) -> TLSEngine:
    """Engine `index` with a TLS listener on 127.0.0.1:`port`, started unless it answers.

    A daemon already running without that listener, or with other certificates (say its
    folder was cleaned up under it), is restarted.
    """
    plain = Engine(index)
    files = ensure_certs(plain.root / "tls")
    engine = Engine(index, plain.base_dir, tls_args(files, port))
    tls_engine = TLSEngine(engine, port, files)
    engine.start(timeout)
    if not tls_engine.answers_tls():
        engine.stop()
        engine.start(timeout)
        if not tls_engine.answers_tls():
            detail = tls_engine.docker_tls("version").stderr.strip()
            raise RuntimeError(f"{engine.name} does not answer on {tls_engine.url} over TLS: {detail}\n"
                               f"{engine.log_tail()}")
    return tls_engine
