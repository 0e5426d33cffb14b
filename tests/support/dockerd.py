"""Private Docker engines that stand in for Docker hosts in tests and benchmarks.

Each `Engine` is its own ``dockerd`` with its own socket, data root, exec root and bridge,
so several run side by side on one machine; stopping or killing one is how a test loses
a host. Running them needs root, ``dockerd`` and ``ip`` (Debian: docker.io, iproute2);
building the test images needs a static busybox (Debian: busybox-static). When something
is missing, `EngineUnavailable` (a RuntimeError) says what, and the caller decides
whether to skip or fail.

    engines = ensure_engines(2)
    ensure_test_images(engines)
    engines[0].docker("run", "-d", "-p", "127.0.0.1::8080", WEB_V1)
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ROOT = Path("/tmp/moorage-engines")
MAX_INDEX = 508  # two /16s of /24 bridges: 10.213.0.0/16 and 10.214.0.0/16
BUSYBOX = Path("/bin/busybox")
MANAGED_LABEL = "moorage.managed"

WEB_V1 = "moorage-test/web:v1"
WEB_V2 = "moorage-test/web:v2"
WEB_BAD = "moorage-test/web:bad"
WEB_CRASH = "moorage-test/web:crash"
WEB_LATEST = "moorage-test/web:latest"
TEST_IMAGES = (WEB_V1, WEB_V2, WEB_BAD, WEB_CRASH, WEB_LATEST)

# Unix socket paths are capped at 108 bytes and containerd nests its sockets a few levels
# below the exec root (exec/containerd/containerd.sock.ttrpc), so the root must stay short.
_MAX_ROOT_LEN = 64
_SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"
# Run "$@" in the background with its output appended to the log; print its pid.
_BACKGROUND = '"$@" </dev/null >>"$MOORAGE_DOCKERD_LOG" 2>&1 & echo $!'


class EngineUnavailable(RuntimeError):
    """This machine cannot run private engines (a tool is missing, not root, ...)."""


class DockerCommandError(subprocess.CalledProcessError):
    """A docker CLI call failed. Unlike its base class, str() shows the CLI's stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{(self.stderr or '').strip()}"


def engines_root() -> Path:
    """Directory holding one subdirectory per engine (`MOORAGE_ENGINES_ROOT` overrides)."""
    return Path(os.environ.get("MOORAGE_ENGINES_ROOT") or DEFAULT_ROOT)


def require_tools() -> None:
    """Raise `EngineUnavailable` unless this machine can run private engines."""
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (dockerd needs it)")
    for tool, package in (("dockerd", "docker.io"), ("docker", "docker.io"), ("ip", "iproute2")):
        if _which(tool) is None:
            problems.append(f"{tool} not found (apt-get install {package})")
    if problems:
        raise EngineUnavailable("cannot run private Docker engines: " + "; ".join(problems))


@dataclass(frozen=True)
class Engine:
    """Engine number `index` (1..508): bridge br-moor{index}, subnet 10.213.{index}.0/24
    (10.214.{index - 256}.0/24 from 256 on).

    `extra_args` go to dockerd as they are, e.g. a ``--host=tcp://...`` with TLS flags
    (see `tests.support.tls`). They take effect when the daemon starts; one already
    running is left as it is.
    """

    index: int
    base_dir: Path = field(default_factory=engines_root)
    extra_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.index <= MAX_INDEX:
            raise ValueError(f"engine index must be in 1..{MAX_INDEX}, got {self.index}")
        if len(str(self.root)) > _MAX_ROOT_LEN:
            raise ValueError(f"engine root {self.root} is too long for unix socket paths")

    @property
    def name(self) -> str:
        return f"e{self.index}"

    @property
    def root(self) -> Path:
        return Path(self.base_dir) / self.name

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def exec_dir(self) -> Path:
        return self.root / "exec"

    @property
    def pidfile(self) -> Path:
        return self.root / "docker.pid"

    @property
    def logfile(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def config_file(self) -> Path:
        return self.root / "daemon.json"

    @property
    def bridge(self) -> str:
        return f"br-moor{self.index}"

    @property
    def gateway(self) -> str:
        """The bridge's own address: the engine's containers are in its /24."""
        return f"10.{213 + self.index // 256}.{self.index % 256}.1"

    @property
    def bridge_address(self) -> str:
        return f"{self.gateway}/24"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        """Start the daemon unless it already answers; return once it does."""
        if not self.is_up():
            self._wait_until_up(self._launch(), timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the daemon (it stops its containers), SIGKILL if it takes too long."""
        pid = self.pid()
        if pid is None:
            return
        _signal(pid, signal.SIGTERM)
        if not _wait_for_exit(pid, timeout):
            _signal(pid, signal.SIGKILL)
            _wait_for_exit(pid, 10)

    def kill(self) -> None:
        """SIGKILL the daemon: a host lost without warning (its containers keep running)."""
        pid, containerd = self.pid(), self._containerd_pid()
        if pid is None:
            return
        _signal(pid, signal.SIGKILL)
        _wait_for_exit(pid, 10)
        # containerd gets SIGKILL when its parent dies; let it finish dying before a restart.
        if containerd is not None:
            _wait_for_exit(containerd, 2)

    def is_up(self) -> bool:
        """Whether the daemon answers API calls."""
        if not self.socket.exists():
            return False
        try:
            return self.docker("version", check=False, timeout=5).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def pid(self) -> int | None:
        """Pid of this engine's running dockerd, or None."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        # After a crash the pidfile stays behind and its pid may belong to someone else now.
        return pid if _alive(pid) and _comm(pid) == "dockerd" else None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- working with the engine -------------------------------------------------------

    def docker(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        timeout: float | None = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this engine; raise `DockerCommandError` if check."""
        cmd = [_docker_cli(), "-H", self.url, *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, env=_cli_env(), timeout=timeout)
        if check and proc.returncode != 0:
            raise DockerCommandError(proc.returncode, cmd, proc.stdout, proc.stderr)
        return proc

    def remove_all_containers(self, label: str = MANAGED_LABEL) -> list[str]:
        """Force-remove the containers carrying `label` (key or key=value); return their ids."""
        ids = self._container_ids(label)
        if ids:
            # Not checked: a container may vanish in between; what is left is checked below.
            self.docker("rm", "--force", "--volumes", *ids, check=False)
            if left := self._container_ids(label):
                raise RuntimeError(f"{self.name}: could not remove containers {left}")
        return ids

    def remove_managed_networks(self) -> None:
        """Remove the networks Moorage made here (once their containers are gone): each run
        is a new installation, which rightly refuses a network of the same name made by
        another, so one left behind fails the next run's test on this engine."""
        names = self.docker("network", "ls", "-q", "--filter", f"label={MANAGED_LABEL}").stdout.split()
        if names:
            self.docker("network", "rm", *names, check=False)

    def _container_ids(self, label: str) -> list[str]:
        return self.docker("ps", "-aq", "--no-trunc", "--filter", f"label={label}").stdout.split()

    def _launch(self) -> int | None:
        """Spawn dockerd in the background; return its pid (None if one is already running)."""
        require_tools()
        if self.pid() is not None:
            return None  # still booting (or wedged): let the caller wait for it
        self.pidfile.unlink(missing_ok=True)
        self._forget_dead_containerd()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.exec_dir.mkdir(parents=True, exist_ok=True)
        # Our own config, so a host-wide /etc/docker/daemon.json cannot leak in.
        config = {}
        if _dockerd_major_version() < 23:
            # Before 23.0 the engine ID comes from /etc/docker/key.json, so without a key
            # of their own all engines would report the same ID. (Config file only: there
            # is no such command-line flag.)
            config["deprecated-key-path"] = str(self.root / "key.json")
        self.config_file.write_text(json.dumps(config) + "\n")
        self._ensure_bridge()
        cmd = [
            _which("dockerd") or "dockerd",
            f"--host={self.url}",
            f"--data-root={self.data_dir}",
            f"--exec-root={self.exec_dir}",
            f"--pidfile={self.pidfile}",
            f"--config-file={self.config_file}",
            # Separate containerd namespaces in case a system containerd is shared.
            f"--containerd-namespace=moorage-{self.name}",
            f"--containerd-plugins-namespace=moorage-{self.name}-plugins",
            # One bridge per engine, and no iptables: engines would fight over docker0 and
            # the FORWARD policy. Published ports still work through docker-proxy.
            f"--bridge={self.bridge}",
            "--iptables=false",
            "--ip-masq=false",
            "--userland-proxy=true",
            *self.extra_args,
        ]
        # A shell backgrounds dockerd and exits at once, so the daemon is reparented to
        # init: it outlives this process and never lingers as our zombie after a stop.
        launcher = subprocess.run(
            ["/bin/sh", "-c", _BACKGROUND, "sh", *cmd],
            env={**os.environ, "MOORAGE_DOCKERD_LOG": str(self.logfile)},
            capture_output=True,
            text=True,
            check=True,
            start_new_session=True,
        )
        return int(launcher.stdout.strip())

    def _wait_until_up(self, pid: int | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.is_up():
            if pid is not None and not _alive(pid):
                if self.pid() is None:
                    raise RuntimeError(f"dockerd {self.name} exited at start:\n{self.log_tail()}")
                pid = None  # lost a race to another starter: wait for theirs instead
            if time.monotonic() > deadline:
                raise RuntimeError(f"dockerd {self.name} did not answer within {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def _forget_dead_containerd(self) -> None:
        # A killed dockerd takes its containerd along, but until init reaps it the dead
        # containerd is a zombie, which dockerd mistakes for a live one: it then waits for
        # its socket until "timeout waiting for containerd to start".
        pid = self._containerd_pid()
        if pid is not None and not _alive(pid):
            self._containerd_pidfile.unlink(missing_ok=True)

    @property
    def _containerd_pidfile(self) -> Path:
        return self.exec_dir / "containerd" / "containerd.pid"

    def _containerd_pid(self) -> int | None:
        try:
            return int(self._containerd_pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def _ensure_bridge(self) -> None:
        # Interfaces outlive the daemons, so every step must be safe to repeat.
        ip = _which("ip") or "ip"
        if subprocess.run([ip, "link", "show", self.bridge], capture_output=True).returncode:
            # Not checked: a concurrent starter may add it first; `addr` fails if it is absent.
            subprocess.run([ip, "link", "add", self.bridge, "type", "bridge"], capture_output=True)
        subprocess.run([ip, "addr", "replace", self.bridge_address, "dev", self.bridge], check=True)
        subprocess.run([ip, "link", "set", self.bridge, "up"], check=True)


def ensure_engines(n: int, timeout: float = 30.0) -> list[Engine]:
    """Start engines 1..n (this xdist worker's: `parallel.engine_index`), those not
    already up, and return them once all answer."""
    from tests.support.parallel import engine_index  # it imports this module

    engines = [Engine(engine_index(i)) for i in range(1, n + 1)]
    # Launch all, then wait: the daemons boot in parallel instead of one after another.
    pids = {e: e._launch() for e in engines if not e.is_up()}
    for engine, pid in pids.items():
        engine._wait_until_up(pid, timeout)
    return engines


# -- test images -----------------------------------------------------------------------


def _serve(port: int) -> list[str]:
    # A shell as PID 1 ignores SIGTERM unless it traps it; without the trap every stop
    # would wait out the 10 s grace period.
    return ["/bin/sh", "-c", f"trap 'exit 0' TERM; httpd -f -p {port} -h /www & wait"]


# tag suffix -> (files under /www, CMD)
_VARIANTS: dict[str, tuple[dict[str, str], list[str]]] = {
    "v1": ({"healthz": "ok", "version": "v1"}, _serve(8080)),
    "v2": ({"healthz": "ok", "version": "v2"}, _serve(8080)),
    # Listens on 8081, so a health check on 8080 never passes; no /healthz either.
    "bad": ({"version": "bad"}, _serve(8081)),
    "crash": ({}, ["/bin/sh", "-c", "echo 'moorage-test: crashing on purpose' >&2; exit 1"]),
}


def build_test_images(engine: Engine) -> None:
    """Build the moorage-test/web:* images on `engine`, unless all are there already.

    v1, v2 (and latest = v1): busybox httpd on 8080 serving /healthz "ok" and /version;
    bad: serves on 8081 without /healthz; crash: prints to stderr and exits 1.
    """
    if set(TEST_IMAGES) <= _image_ids(engine).keys():
        return
    if not BUSYBOX.is_file() or not _statically_linked(BUSYBOX):
        # FROM scratch has no libc: a dynamically linked busybox could not even start.
        raise EngineUnavailable(f"no static {BUSYBOX} (apt-get install busybox-static)")
    with tempfile.TemporaryDirectory(prefix="moorage-images-") as tmp:
        context = Path(tmp)
        shutil.copy(BUSYBOX, context / "busybox")
        for variant, (files, cmd) in _VARIANTS.items():
            www = context / f"www-{variant}"
            www.mkdir()
            for name, body in files.items():
                (www / name).write_text(body)
            dockerfile = context / f"Dockerfile.{variant}"
            dockerfile.write_text(_dockerfile(www.name, cmd))
            # --network none: the build needs no network, so it gets none.
            tag = f"moorage-test/web:{variant}"
            engine.docker("build", "-q", "--network", "none", "-t", tag, "-f", str(dockerfile), tmp)
    engine.docker("tag", WEB_V1, WEB_LATEST)


def _dockerfile(www: str, cmd: Sequence[str]) -> str:
    # The busybox layers come first so every variant shares them from the build cache.
    return (
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        f"COPY {www} /www\n"
        "EXPOSE 8080\n"
        f"CMD {json.dumps(list(cmd))}\n"
    )


def copy_images(src: Engine, dst: Engine, tags: Iterable[str] = TEST_IMAGES) -> None:
    """Copy images from `src` to `dst` (docker save | docker load), skipping those already there."""
    have, want = _image_ids(dst), _image_ids(src)
    missing = [t for t in tags if have.get(t) != want.get(t)]
    if not missing:
        return
    cli, env = _docker_cli(), _cli_env()
    save = subprocess.Popen(
        [cli, "-H", src.url, "save", *missing],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    load = subprocess.run(
        [cli, "-H", dst.url, "load", "-q"],
        stdin=save.stdout,
        capture_output=True,
        text=True,
        env=env,
    )
    save.stdout.close()  # type: ignore[union-attr]  # so save gets SIGPIPE if load died
    save_err = save.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
    if save.wait() != 0 or load.returncode != 0:
        raise RuntimeError(f"copying {missing} {src.name} -> {dst.name} failed:\n{save_err}{load.stderr}")


def ensure_test_images(engines: Sequence[Engine]) -> None:
    """Build the test images on the first engine and copy them to the others."""
    build_test_images(engines[0])
    for engine in engines[1:]:
        copy_images(engines[0], engine)


def _image_ids(engine: Engine) -> dict[str, str]:
    out = engine.docker("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    return dict(line.split() for line in out.stdout.splitlines() if line.strip())


# -- helpers ---------------------------------------------------------------------------


def _which(tool: str) -> str | None:
    # dockerd and ip live in sbin, which a non-login PATH may lack.
    return shutil.which(tool, path=f"{os.environ.get('PATH', '')}:{_SBIN_PATH}")


@functools.cache
def _dockerd_major_version() -> int:
    # "Docker version 20.10.24+dfsg1, build 5d6db84"
    out = subprocess.run([_which("dockerd") or "dockerd", "--version"], capture_output=True, text=True)
    try:
        return int(out.stdout.split()[2].split(".")[0])
    except (IndexError, ValueError):
        return 0  # unknown: assume old, like Debian 12's 20.10


def _docker_cli() -> str:
    cli = _which("docker")
    if cli is None:
        raise EngineUnavailable("docker CLI not found (apt-get install docker.io)")
    return cli


def _cli_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
    }
    # The classic builder: Debian's docker.io ships no buildx, and a newer CLI without the
    # plugin refuses to build at all unless BuildKit is off.
    env["DOCKER_BUILDKIT"] = "0"
    env["DOCKER_CLI_HINTS"] = "false"
    return env


def _statically_linked(binary: Path) -> bool:
    if shutil.which("ldd") is None:
        return True  # cannot tell; the image build will say if not
    # ldd fails ("not a dynamic executable") exactly when there is nothing to link.
    return subprocess.run(["ldd", str(binary)], capture_output=True).returncode != 0


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # A zombie ("Z") has exited and only waits to be reaped by its parent.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may just have exited
        os.kill(pid, sig)


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
