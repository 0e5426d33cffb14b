"""Networks and discovery by name (app.reconcile.networks, and what the spec, the
template and the hashes make of ``networks``): names, which hosts need which networks,
which of Moorage's networks are unused, and when members span hosts, so a name would
not resolve."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.reconcile import networks as rules
from app.reconcile import template as tpl
from app.reconcile.types import Create, ObservedContainer, Remove, Start
from app.schemas.deployments import DeploymentSpec
from app.services import specs


def _container(host: str, name: str = "web.0.abc") -> ObservedContainer:
    return ObservedContainer(container_id="c" * 12, name=name, host=host, slot=0,
                             template_hash="abc", revision=1, state="created",
                             started_at=datetime(2026, 1, 1, tzinfo=UTC))


# ---- names ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["shop", "a", "db-1", "x" * 63, "0net"])
def test_a_dns_label_is_a_network_name(name: str) -> None:
    assert rules.name_problem(name) is None
    assert DeploymentSpec(image="web:1", networks=[name]).networks == [name]


@pytest.mark.parametrize(("name", "says"), [
    ("Shop", "not a network name"), ("-shop", "not a network name"),
    ("shop_1", "not a network name"), ("sh.op", "not a network name"),
    ("x" * 64, "not a network name"),
    ("bridge", "engine's own"), ("host", "engine's own"), ("none", "engine's own"),
    ("default", "engine's own"), ("ingress", "engine's own"),
])
def test_other_names_are_refused_saying_why(name: str, says: str) -> None:
    assert says in (rules.name_problem(name) or "")
    with pytest.raises(ValidationError) as caught:
        DeploymentSpec(image="web:1", networks=["ok", name])
    (error,) = caught.value.errors()
    assert error["loc"][:2] == ("networks", 1)  # the problem names the bad entry


def test_networks_are_a_set_stored_sorted_and_bounded() -> None:
    assert DeploymentSpec(image="web:1", networks=["shop", "db"]).networks == ["db", "shop"]
    with pytest.raises(ValidationError, match="listed twice: shop"):
        DeploymentSpec(image="web:1", networks=["shop", "db", "shop"])
    with pytest.raises(ValidationError):
        DeploymentSpec(image="web:1", networks=[f"n{i}" for i in range(rules.MAX_PER_DEPLOYMENT + 1)])


# ---- the template and the hashes -----------------------------------------------------


def test_a_spec_without_networks_keeps_its_stored_template_and_hashes() -> None:
    """Upgrading must replace no container: a spec that does not use networks stores the
    same public spec and template, and hashes as the formula before networks did."""
    spec = DeploymentSpec(image="web:1", env={"A": "1"}, secrets={"S": "x"})
    public = specs.public_spec(spec)
    assert "networks" not in public
    assert "networks" not in specs.template(spec).to_dict()["container"]
    key, nonce = b"k" * 32, "n"
    before = {"template": {k: public.get(k) for k in ("image", "command", "entrypoint", "env",
                                                      "ports", "resources", "labels", "volumes")},
              "secrets": {"S": "x"}, "nonce": nonce}
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":")).encode()
    assert specs.template_hash(key, public, {"S": "x"}, nonce) == hmac.new(
        key, canonical, hashlib.sha256).hexdigest()


def test_networks_are_part_of_what_a_container_is_made_from() -> None:
    """A change of networks is a new template hash (replicas are replaced, rolling: a
    container joins its networks when it is made); their order is not."""
    key = b"k" * 32
    plain = specs.public_spec(DeploymentSpec(image="web:1"))
    shop = specs.public_spec(DeploymentSpec(image="web:1", networks=["shop", "db"]))
    same = specs.public_spec(DeploymentSpec(image="web:1", networks=["db", "shop"]))
    assert shop["networks"] == ["db", "shop"]
    assert specs.template_hash(key, plain, {}) != specs.template_hash(key, shop, {})
    assert specs.template_hash(key, shop, {}) == specs.template_hash(key, same, {})
    assert specs.spec_hash(key, shop, {}) == specs.spec_hash(key, same, {})


def test_the_template_carries_networks_and_reads_them_leniently() -> None:
    t = specs.template(DeploymentSpec(image="web:1", networks=["shop"]))
    assert t.container.networks == ("shop",)
    stored = json.loads(json.dumps(t.to_dict()))
    assert stored["container"]["networks"] == ["shop"]
    assert tpl.from_dict(stored) == t
    # A template from before the field (or with it null) joins no network.
    del stored["container"]["networks"]
    assert tpl.from_dict(stored).container.networks == ()
    stored["container"]["networks"] = None
    assert tpl.from_dict(stored).container.networks == ()
    assert tpl.Container(image="web:1", networks=("b", "a", "b")).networks == ("a", "b")


# ---- which hosts need which networks ----------------------------------------------------


def test_networks_are_needed_where_a_batch_creates_or_starts_replicas() -> None:
    actions = [Create(0, "h1", "web.0.abc", "missing replica"),
               Start(_container("h2"), "created but not started"),
               Remove(_container("h3"), "surplus")]
    assert rules.needed_on_hosts(actions, ["shop", "db"]) == {
        "h1": ("db", "shop"), "h2": ("db", "shop")}
    assert rules.needed_on_hosts(actions, []) == {}  # no networks: nothing to ensure
    assert rules.needed_on_hosts([actions[2]], ["shop"]) == {}  # a remove needs none


# ---- which networks are unused -----------------------------------------------------------

SHOP = rules.HostNetwork("id-shop", "shop")
DB = rules.HostNetwork("id-db", "db")


@pytest.mark.parametrize(("referenced", "removed"), [
    (set(), [SHOP, DB]),  # nothing on the host names them
    ({"shop"}, [DB]),  # a container (any state, anyone's) names shop
    ({"id-db"}, [SHOP]),  # a running container names db by its id
    ({"shop", "id-db"}, []),
    ({"bridge", "other"}, [SHOP, DB]),  # other networks keep nothing of ours
])
def test_a_network_is_unused_when_no_container_on_the_host_names_it(
        referenced: set[str], removed: list[rules.HostNetwork]) -> None:
    assert rules.unused([SHOP, DB], referenced) == removed


networks = st.lists(st.builds(rules.HostNetwork, st.sampled_from(["1", "2", "3"]),
                              st.sampled_from(["shop", "db", "x"])), max_size=4)


@given(networks, st.sets(st.sampled_from(["1", "2", "3", "shop", "db", "x", "bridge"])))
def test_only_owned_and_unreferenced_networks_are_ever_removed(
        owned: list[rules.HostNetwork], referenced: set[str]) -> None:
    removed = rules.unused(owned, referenced)
    assert all(n in owned for n in removed)  # never one it was not given (not ours)
    assert not any(n.name in referenced or n.id in referenced for n in removed)
    # and every one nothing names goes: the sweep leaves nothing behind
    assert [n for n in owned if n not in removed] == [
        n for n in owned if n.name in referenced or n.id in referenced]


# ---- members on several hosts: names do not resolve ------------------------------------

def _spread(members: dict[str, set[str]], network: str = "shop") -> list[rules.Spread]:
    return rules.spread([network], {network: {m: frozenset(h) for m, h in members.items()}})


@pytest.mark.parametrize("members", [
    {"web": {"h1"}, "db": {"h1"}},  # all on one host: every name resolves
    {"web": {"h1", "h2"}},  # one member alone, over two hosts: nobody calls it
    {"web": {"h1"}, "db": set()},  # db runs nowhere: no surprise that it resolves nowhere
    {},
])
def test_no_spread_when_every_member_is_on_one_host(members: dict[str, set[str]]) -> None:
    assert _spread(members) == []


def test_members_on_different_hosts_cannot_reach_each_other_by_name() -> None:
    (s,) = _spread({"web": {"h1"}, "db": {"h2"}})
    assert s.hosts == ("h1", "h2")
    assert s.unreachable == (("db", "h2", "web"), ("web", "h1", "db"))
    assert "network shop spans hosts h1, h2 (db on h2; web on h1)" in s.message
    assert "web on h1 cannot reach db" in s.message
    assert "resolves only to members on the same host" in s.message
    assert "endpoint" in s.message


def test_a_member_partly_on_another_host_is_reached_only_there() -> None:
    # db on h1 and h2, web on h1: web reaches db's h1 replicas; db on h2 cannot reach web.
    (s,) = _spread({"web": {"h1"}, "db": {"h1", "h2"}})
    assert s.unreachable == (("db", "h2", "web"),)
    (s,) = _spread({"web": {"h1", "h2"}, "db": {"h1", "h2"}})
    assert s.unreachable == ()  # each finds the other on its own host, but only there
    assert "reaches only the replicas on its own host" in s.message


def test_each_network_is_judged_on_its_own() -> None:
    spreads = rules.spread(["shop", "ops"], {
        "shop": {"web": frozenset({"h1"}), "db": frozenset({"h1"})},
        "ops": {"web": frozenset({"h1"}), "metrics": frozenset({"h3"})},
    })
    assert [s.network for s in spreads] == ["ops"]


def test_a_long_list_of_unreachable_pairs_is_cut_short() -> None:
    (s,) = _spread({f"m{i}": {f"h{i}"} for i in range(4)})
    assert len(s.unreachable) == 12
    assert "(and 9 more)" in s.message
