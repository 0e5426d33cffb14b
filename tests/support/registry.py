"""A private image registry on loopback, for tests that pull for real.

It is Debian's ``docker-registry`` (the CNCF distribution server, the same code as the
``registry:2`` image) with htpasswd auth, listening on 127.0.0.1 only. Engines treat
127.0.0.0/8 as an insecure registry, so they talk plain HTTP to it; credentials still
go through the same Basic/token handshake as with any registry.

    reg = Registry(root, port); reg.start()
    digest_ref = reg.push(engine, "moorage-test/web:v1", "moorage/web", "v1")
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import httpx

from tests.support.dockerd import Engine, EngineUnavailable


def require_tools() -> None:
    missing = [f"{tool} (apt-get install {package})"
               for tool, package in (("docker-registry", "docker-registry"),
                                     ("htpasswd", "apache2-utils"))
               if shutil.which(tool) is None]
    if missing:
        raise EngineUnavailable("cannot run a private registry: missing " + ", ".join(missing))


@dataclass
class Registry:
    root: Path
    port: int
    username: str = "moorage-ci"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)
    proc: subprocess.Popen | None = None
    # Where the registry posts its notifications (url, Authorization header), if anywhere.
    notify: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def auth_config(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password,
                "serveraddress": self.address}

    def start(self, timeout: float = 30.0) -> None:
        require_tools()
        self.root.mkdir(parents=True, exist_ok=True)
        htpasswd = subprocess.run(["htpasswd", "-Bbn", self.username, self.password],
                                  capture_output=True, text=True, check=True).stdout
        (self.root / "htpasswd").write_text(htpasswd)
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {self.root / 'data'}}}}}\n"
            f"http: {{addr: '{self.address}'}}\n"
            f"auth: {{htpasswd: {{realm: moorage-test, path: {self.root / 'htpasswd'}}}}}\n"
            + self._notifications()
        )
        log = open(self.root / "registry.log", "ab")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen([shutil.which("docker-registry") or "docker-registry",
                                      "serve", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the registry exited: {self.log_tail()}")
            try:
                if httpx.get(f"http://{self.address}/v2/", timeout=1).status_code == 401:
                    return  # up, and asking for credentials
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the registry did not come up: {self.log_tail()}")

    def _notifications(self) -> str:
        if self.notify is None:
            return ""
        url, authorization = self.notify
        return (
            "notifications:\n"
            "  endpoints:\n"
            "    - name: moorage\n"
            f"      url: {url}\n"
            f"      headers: {{Authorization: ['{authorization}']}}\n"
            "      timeout: 5s\n"
            "      threshold: 3\n"
            "      backoff: 1s\n"
        )

    def restart(self, notify: tuple[str, str] | None) -> None:
        """The same registry (address, users, stored images), notifying elsewhere."""
        self.stop()
        self.notify = notify
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = (self.root / "registry.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def push(self, engine: Engine, source: str, repository: str, tag: str,
             keep_local: bool = False) -> str:
        """Push ``source`` (an image the engine has) as ``<registry>/<repository>:<tag>``;
        return its ``name@sha256:...`` reference. Unless ``keep_local``, the engine
        forgets the pushed name, so a deployment of it must pull it."""
        name = f"{self.address}/{repository}"
        api = docker.APIClient(base_url=engine.url, timeout=120)
        try:
            api.tag(source, name, tag)
            digest = None
            for message in api.push(name, tag, stream=True, decode=True,
                                    auth_config=self.auth_config):
                if "error" in message or "errorDetail" in message:
                    raise RuntimeError(f"push of {name}:{tag} failed: {message}")
                digest = (message.get("aux") or {}).get("Digest", digest)
            if digest is None:
                raise RuntimeError(f"push of {name}:{tag} reported no digest")
            if not keep_local:
                api.remove_image(f"{name}:{tag}")
            return f"{name}@{digest}"
        finally:
            api.close()
