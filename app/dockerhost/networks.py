"""User-defined networks on one engine: make Moorage's, list them, remove them.

A network Moorage makes carries the same labels as its containers (``moorage.managed``,
``moorage.installation``), and only a network with both, for this installation, is ever
used or removed. One of the same name that is not (a user's, another installation's) is
refused, never adopted: Moorage would otherwise attach its replicas to a network whose
other members it does not know, and could later delete what it never made.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from docker import errors as derr

from app.dockerhost.engine import (
    L_INSTALLATION,
    L_MANAGED,
    EngineClient,
    _engine_message,
    _parse_time,
    classified,
)
from app.dockerhost.errors import PermanentEngineError
from app.reconcile.networks import HostNetwork

L_NETWORK = "moorage.network"

# Replicas of one deployment are created concurrently: one ensure at a time per host
# and name in a process, so they do not each make a network of that name. (The engine
# allows two networks of one name; across processes, see _one_of.)
_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(url: str, name: str) -> threading.Lock:
    with _locks_guard:
        if len(_locks) > 4096:
            _locks.clear()  # only a hint between threads; losing one costs a re-check
        return _locks.setdefault((url, name), threading.Lock())


def _ours(network: dict, installation: str) -> bool:
    labels = network.get("Labels") or {}
    return labels.get(L_MANAGED) == "true" and labels.get(L_INSTALLATION) == installation


def _named(client: EngineClient, name: str) -> list[dict]:
    # The engine's name filter matches substrings: keep the exact name only.
    return [n for n in client.api.networks(names=[name]) if n.get("Name") == name]


def ensure(client: EngineClient, name: str, installation: str) -> str:
    """The id of this installation's bridge network ``name`` on this host, made if it is
    not there. A network of that name Moorage did not make is a permanent error."""
    with _lock(client.url, name), classified(client.name, f"network {name}"):
        found = _named(client, name)
        if not found:
            try:
                client.api.create_network(
                    name, driver="bridge", check_duplicate=True,
                    labels={L_MANAGED: "true", L_INSTALLATION: installation, L_NETWORK: name})
            except derr.APIError as exc:
                if exc.status_code != 409:  # 409: made by someone else just now
                    raise
            found = _named(client, name)
        foreign = [n for n in found if not _ours(n, installation)]
        if foreign:
            raise PermanentEngineError(
                f"{client.name}: a network named {name} exists on this host and was not "
                "made by this Moorage installation; Moorage never joins or removes a network "
                "it did not make. Rename or remove that network, or choose another name in "
                "`networks`")
        if not found:
            raise PermanentEngineError(f"{client.name}: network {name} could not be made")
        return _one_of(client, found)


def _one_of(client: EngineClient, mine: list[dict]) -> str:
    """Two workers may each have made the network at the same moment: keep the oldest
    (every racer picks the same one) and remove the others while nothing uses them."""
    keep, *extra = sorted(mine, key=lambda n: (_created(n), str(n["Id"])))
    for n in extra:
        try:
            client.api.remove_network(n["Id"])
        except derr.APIError:
            pass  # in use after all, or gone: the sweep looks again
    return str(keep["Id"])


def _created(network: dict) -> datetime:
    parsed = _parse_time(network.get("Created"))
    return parsed if parsed is not None else datetime.max.replace(tzinfo=UTC)


def owned(client: EngineClient, installation: str) -> list[HostNetwork]:
    """This installation's networks for deployments' ``networks`` on this host (those
    made by ``ensure``: a network Moorage makes for another purpose carries no
    ``moorage.network`` label and is not among them)."""
    with classified(client.name, "list networks"):
        found = client.api.networks(filters={
            "label": [f"{L_MANAGED}=true", f"{L_INSTALLATION}={installation}", L_NETWORK]})
    return [HostNetwork(str(n["Id"]), str(n.get("Name", ""))) for n in found]


def referenced(client: EngineClient) -> set[str]:
    """Names and ids of the networks any container on this host (anyone's, in any
    state) is on. A stopped container names its networks only by name."""
    with classified(client.name, "list containers"):
        summaries = client.api.containers(all=True)
    used: set[str] = set()
    for s in summaries:
        for name, settings in ((s.get("NetworkSettings") or {}).get("Networks") or {}).items():
            used.add(name)
            if (settings or {}).get("NetworkID"):
                used.add(settings["NetworkID"])
    return used


def remove(client: EngineClient, network: HostNetwork) -> bool:
    """Remove one of Moorage's networks; False when something uses it after all (the
    engine refuses while a container is attached) or it is gone already."""
    with classified(client.name, f"remove network {network.name}"):
        try:
            client.api.remove_network(network.id)
        except derr.NotFound:
            return False
        except derr.APIError as exc:
            if exc.status_code in (403, 409) or "active endpoints" in _engine_message(exc):
                return False
            raise
    return True
