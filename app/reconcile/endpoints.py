"""Service endpoints, decided: which replicas a deployment's endpoint sends to, and the
whole config of one edge's proxy (Caddy's JSON) from every endpoint. Pure: no I/O.

A replica is an *upstream* while Moorage's own health gate calls it ready
(``planner.is_ready``), on a host Moorage can see, and not on its way out: one the plan
is about to remove leaves the upstreams first (and is drained) so that no request is
sent to a container being stopped. The proxy reaches a replica at its published
address on its host, so an endpoint works across hosts wherever the edge can reach the
hosts' addresses; nothing here needs an overlay network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.reconcile.planner import is_ready
from app.reconcile.types import Desired, HostState, HostView, ObservedContainer

SERVING = "serving"
DRAINING = "draining"
# Published on every address: the proxy dials the host's own address instead.
_ANY = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class Upstream:
    """One replica as the edges reach it."""

    host: str
    replica: str  # its container name
    address: str  # "ip:port" (or "[v6]:port") the proxy dials
    revision: int
    state: str = SERVING  # serving | draining

    def as_dict(self) -> dict[str, object]:
        return {"host": self.host, "replica": self.replica, "address": self.address,
                "revision": self.revision, "state": self.state}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Upstream:
        return cls(str(d["host"]), str(d["replica"]), str(d["address"]),
                   int(d.get("revision") or 0), str(d.get("state") or SERVING))  # type: ignore[call-overload]


@dataclass(frozen=True)
class Served:
    """One endpoint as every edge serves it."""

    deployment: str
    listen_port: int
    hostnames: tuple[str, ...] = ()
    upstreams: tuple[str, ...] = ()  # addresses of the serving upstreams
    drain_timeout_s: float = 30.0


@dataclass(frozen=True)
class EdgeView:
    name: str
    listen_address: str  # where its proxy binds
    public_address: str  # what URLs name

    @classmethod
    def of(cls, name: str, edge_address: str | None, url: str) -> EdgeView:
        host = url_host(url)
        listen = edge_address or host
        public = host if listen in _ANY else listen
        return cls(name, listen, public)


@dataclass(frozen=True)
class ProxyTuning:
    """How the proxy covers a replica that dies unannounced (before Moorage notices)."""

    admin_listen: str = "127.0.0.1:2019"
    http_port: int = 80  # the shared port for hostnames
    retries: int = 2  # another replica is tried (GETs, and any request not yet sent)
    try_interval_s: float = 0.05
    fail_duration_s: float = 5.0  # a failed replica sits out this long (passive check)
    dial_timeout_s: float = 2.0


def url_host(url: str) -> str:
    """The address a host's URL names: its host part, or 127.0.0.1 for a local socket."""
    if url.startswith("unix://"):
        return "127.0.0.1"
    rest = url.split("://", 1)[-1].rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.split(":", 1)[0].split("/", 1)[0] or "127.0.0.1"


def host_port(address: str, port: int) -> str:
    """``address:port``, with an IPv6 address in brackets."""
    try:
        if ipaddress.ip_address(address).version == 6:
            return f"[{address}]:{port}"
    except ValueError:
        pass
    return f"{address}:{port}"


def publish_ip(reach: str) -> str:
    """The address to publish an endpoint's port on, on a host reached at ``reach``: that
    address when it is an IP (the port is not opened on every interface), else all."""
    try:
        ipaddress.ip_address(reach)
    except ValueError:
        return "0.0.0.0"
    return reach


def dial_address(c: ObservedContainer, port: int, reach: str) -> str | None:
    """Where the proxy reaches container port ``port`` of ``c`` (None: not published)."""
    for container_port, ip, published, protocol in c.published:
        if container_port == port and protocol == "tcp" and published:
            return host_port(reach if ip in _ANY else ip, published)
    return None


def upstreams(
    desired: Desired,
    port: int,
    observed: Iterable[ObservedContainer],
    hosts: Sequence[HostView],
    reach: Mapping[str, str],
    removing: Iterable[str],
    *,
    now: datetime,
) -> tuple[Upstream, ...]:
    """The replicas the endpoint should send to now: ready ones, old revisions' too (a
    rolling update serves both until the old are replaced), on hosts Moorage sees, and
    not among ``removing`` (container ids the plan is about to remove)."""
    if desired.deleting:
        return ()
    state = {h.name: h.state for h in hosts}
    leaving = set(removing)
    out = []
    for c in observed:
        if state.get(c.host) is not HostState.READY or c.container_id in leaving:
            continue
        if not is_ready(c, desired.strategy.min_ready_s, now):
            continue
        address = dial_address(c, port, reach.get(c.host, "127.0.0.1"))
        if address is not None:
            out.append(Upstream(c.host, c.name, address, c.revision))
    return tuple(sorted(out, key=lambda u: (u.host, u.replica)))


@dataclass(frozen=True)
class Change:
    """From what the edges serve to what they should: who joins, who leaves (drained)."""

    joined: tuple[Upstream, ...]
    left: tuple[Upstream, ...]

    @property
    def empty(self) -> bool:
        return not self.joined and not self.left


def change(before: Iterable[Upstream], after: Iterable[Upstream]) -> Change:
    """Compared by address: a replica is the same upstream while it is reached there."""
    was = {u.address: u for u in before if u.state == SERVING}
    now = {u.address: u for u in after}
    return Change(
        joined=tuple(u for a, u in sorted(now.items()) if a not in was),
        left=tuple(u for a, u in sorted(was.items()) if a not in now),
    )


# ---- the proxy's config ----------------------------------------------------------------


def _seconds(s: float) -> str:
    return f"{max(0.0, s):g}s"


def _proxy(s: Served, t: ProxyTuning) -> dict:
    return {
        "handler": "reverse_proxy",
        "upstreams": [{"dial": a} for a in s.upstreams],
        "load_balancing": {
            "selection_policy": {"policy": "round_robin"},
            # A replica that died unannounced: the request goes to another (GETs even
            # after it was sent; others only if it never reached the dead one).
            "retries": t.retries,
            "try_interval": _seconds(t.try_interval_s),
        },
        "health_checks": {"passive": {"fail_duration": _seconds(t.fail_duration_s), "max_fails": 1}},
        "transport": {"protocol": "http", "dial_timeout": _seconds(t.dial_timeout_s)},
    }


def caddy_config(edge: EdgeView, served: Iterable[Served], tuning: ProxyTuning = ProxyTuning()) -> dict:
    """The whole JSON config of ``edge``'s proxy: one server per endpoint at its listen
    port, and one at the shared HTTP port routing by Host (first deployment by name wins
    a hostname two claim). Equal inputs give an equal config (it is compared by hash)."""
    endpoints = sorted(served, key=lambda s: s.deployment)
    servers: dict[str, dict] = {}
    for s in endpoints:
        servers[f"endpoint-{s.deployment}"] = {
            "listen": [host_port(edge.listen_address, s.listen_port)],
            "routes": [{"handle": [_proxy(s, tuning)]}],
            "automatic_https": {"disable": True},
        }
    routes, claimed = [], set()
    for s in endpoints:
        names = [h for h in s.hostnames if h not in claimed]
        claimed.update(names)
        if names:
            routes.append({"match": [{"host": names}], "handle": [_proxy(s, tuning)], "terminal": True})
    if routes:
        servers["hostnames"] = {
            "listen": [host_port(edge.listen_address, tuning.http_port)],
            "routes": routes,
            "automatic_https": {"disable": True},
        }
    http: dict = {"servers": servers}
    if endpoints:
        # A reload lets the old config's requests finish, but not forever.
        http["grace_period"] = _seconds(max(s.drain_timeout_s for s in endpoints) + 1)
    return {"admin": {"listen": tuning.admin_listen}, "apps": {"http": http}}


def urls(edges: Sequence[EdgeView], listen_port: int | None, hostnames: Sequence[str],
         http_port: int) -> list[str]:
    """What a caller can use: each edge at the listen port, then each hostname."""
    out = [f"http://{host_port(e.public_address, listen_port)}/" for e in edges] if listen_port else []
    if edges:
        suffix = "" if http_port == 80 else f":{http_port}"
        out += [f"http://{h}{suffix}/" for h in hostnames if not h.startswith("*.")]
    return out
