"""The Compose mapping, field by field: every supported field and what it becomes, every
refused one and why; and that a mapped stack maps again to the very same stack."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app import yaml12
from app.schemas.deployments import DeploymentSpec
from app.stacks import compose

HAS_NETWORKS = "networks" in DeploymentSpec.model_fields
HAS_ENDPOINT = "endpoint" in DeploymentSpec.model_fields


def stack_of(service: dict[str, Any], *, top: dict[str, Any] | None = None,
             secrets: dict[str, str] | None = None, name: str = "shop") -> compose.Stack:
    doc = {"services": {"web": {"image": "busybox:1", **service}}, **(top or {})}
    return compose.load(yaml.safe_dump(doc), name, secrets or {})


def spec_of(service: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return stack_of(service, **kw).service("web").spec.model_dump(mode="json")


def problems_of(service: dict[str, Any], **kw: Any) -> list[compose.Problem]:
    with pytest.raises(compose.ComposeInvalid) as info:
        stack_of(service, **kw)
    return info.value.problems


def test_the_smallest_file_is_one_deployment_with_moorages_defaults():
    stack = stack_of({})
    (web,) = stack.services
    assert web.deployment == "shop-web"
    assert web.spec.image == "busybox:1" and web.spec.replicas == 1
    assert web.depends_on == () and web.failure_action == "rollback"
    # The stack, not the deployment, rolls back: each service's own auto-rollback is off.
    assert web.spec.update_strategy.auto_rollback is False


# (compose fragment of service `web`, top-level additions, spec field -> expected value)
SUPPORTED = [
    ({"image": "ghcr.io/acme/web:2"}, {}, "image", "ghcr.io/acme/web:2"),
    ({"command": "httpd -f -p '8 0'"}, {}, "command", ["httpd", "-f", "-p", "8 0"]),
    ({"command": ["a", "b c"]}, {}, "command", ["a", "b c"]),
    ({"entrypoint": "/bin/sh -c"}, {}, "entrypoint", ["/bin/sh", "-c"]),
    ({"entrypoint": ["/init"]}, {}, "entrypoint", ["/init"]),
    ({"environment": {"A": "1", "B": 2, "C": True, "D": ""}}, {}, "env",
     {"A": "1", "B": "2", "C": "true", "D": ""}),
    ({"environment": ["A=1", "B=x=y", "C="]}, {}, "env", {"A": "1", "B": "x=y", "C": ""}),
    ({"environment": {"PRICE": "$$5"}}, {}, "env", {"PRICE": "$5"}),
    ({"labels": {"team": "shop"}}, {}, "labels", {"team": "shop"}),
    ({"labels": ["team=shop"]}, {}, "labels", {"team": "shop"}),
    ({"ports": ["8080"]}, {}, "ports",
     [{"container_port": 8080, "host_port": None, "protocol": "tcp", "host_ip": "0.0.0.0"}]),
    ({"ports": ["9000:80"]}, {}, "ports",
     [{"container_port": 80, "host_port": 9000, "protocol": "tcp", "host_ip": "0.0.0.0"}]),
    ({"ports": ["127.0.0.1:9000:80/udp"]}, {}, "ports",
     [{"container_port": 80, "host_port": 9000, "protocol": "udp", "host_ip": "127.0.0.1"}]),
    ({"ports": ["127.0.0.1::80"]}, {}, "ports",
     [{"container_port": 80, "host_port": None, "protocol": "tcp", "host_ip": "127.0.0.1"}]),
    ({"ports": ["[::1]:9000:80"]}, {}, "ports",
     [{"container_port": 80, "host_port": 9000, "protocol": "tcp", "host_ip": "::1"}]),
    ({"ports": [{"target": 80, "published": "9000", "host_ip": "127.0.0.1", "mode": "host"}]},
     {}, "ports",
     [{"container_port": 80, "host_port": 9000, "protocol": "tcp", "host_ip": "127.0.0.1"}]),
    ({"expose": ["8080", "53/udp"]}, {}, "ports", []),
    ({"volumes": ["data:/var/lib/db"]}, {"volumes": {"data": None}}, "volumes",
     [{"source": "shop_data", "target": "/var/lib/db", "read_only": False}]),
    ({"volumes": ["data:/var/lib/db:ro"]}, {"volumes": {"data": {}}}, "volumes",
     [{"source": "shop_data", "target": "/var/lib/db", "read_only": True}]),
    ({"volumes": [{"type": "volume", "source": "data", "target": "/d", "read_only": True}]},
     {"volumes": {"data": {}}}, "volumes", [{"source": "shop_data", "target": "/d", "read_only": True}]),
    ({"volumes": ["data:/d"]}, {"volumes": {"data": {"external": True, "name": "shared"}}},
     "volumes", [{"source": "shared", "target": "/d", "read_only": False}]),
    ({"volumes": ["/srv/web:/www:ro"]}, {}, "volumes",
     [{"source": "/srv/web", "target": "/www", "read_only": True}]),
    ({"volumes": [{"type": "bind", "source": "/srv/web/", "target": "/www"}]}, {}, "volumes",
     [{"source": "/srv/web", "target": "/www", "read_only": False}]),
    ({"healthcheck": {"test": ["CMD", "wget", "-q", "localhost"], "interval": "1m30s",
                      "timeout": "500ms", "retries": 5, "start_period": "10s"}}, {}, "health_check",
     {"http": None, "tcp": None, "exec": ["wget", "-q", "localhost"], "interval_s": 90.0,
      "timeout_s": 0.5, "retries": 5, "start_period_s": 10.0}),
    ({"healthcheck": {"test": ["CMD-SHELL", "test -f /ok"]}}, {}, "health_check",
     {"http": None, "tcp": None, "exec": ["/bin/sh", "-c", "test -f /ok"], "interval_s": 5.0,
      "timeout_s": 2.0, "retries": 3, "start_period_s": 0.0}),
    ({"healthcheck": {"test": "test -f /ok"}}, {}, "health_check",
     {"http": None, "tcp": None, "exec": ["/bin/sh", "-c", "test -f /ok"], "interval_s": 5.0,
      "timeout_s": 2.0, "retries": 3, "start_period_s": 0.0}),
    ({"healthcheck": {"test": ["NONE"]}}, {}, "health_check", None),
    ({"healthcheck": {"disable": True}}, {}, "health_check", None),
    ({"deploy": {"replicas": 3}}, {}, "replicas", 3),
    ({"deploy": {"update_config": {"parallelism": 2, "order": "start-first"}}}, {},
     "update_strategy", {"max_surge": 2, "max_unavailable": 0, "min_ready_s": 0.0,
                         "progress_deadline_s": 600.0, "auto_rollback": False}),
    ({"deploy": {"update_config": {"parallelism": 1, "order": "stop-first", "delay": "2s",
                                   "monitor": "3s"}}}, {},
     "update_strategy", {"max_surge": 0, "max_unavailable": 1, "min_ready_s": 5.0,
                         "progress_deadline_s": 600.0, "auto_rollback": False}),
    ({"deploy": {"replicas": 4, "update_config": {"parallelism": 0}}}, {},
     "update_strategy", {"max_surge": 4, "max_unavailable": 0, "min_ready_s": 0.0,
                         "progress_deadline_s": 600.0, "auto_rollback": False}),
    ({"deploy": {"resources": {"limits": {"cpus": "0.5", "memory": "256m"}}}}, {},
     "resources", {"cpus": 0.5, "memory_mb": 256}),
    ({"deploy": {"resources": {"limits": {"memory": "1g"}}}}, {},
     "resources", {"cpus": None, "memory_mb": 1024}),
    ({"deploy": {"placement": {"constraints": ["node.labels.zone == eu",
                                               "node.labels.disk!=hdd"],
                               "max_replicas_per_node": 1}}}, {},
     "placement", {"constraints": ["zone==eu", "disk!=hdd"], "max_per_host": 1}),
    ({"deploy": {"restart_policy": {"condition": "on-failure"}}}, {}, "restart_policy", "on-failure"),
    ({"deploy": {"restart_policy": {"condition": "none"}}}, {}, "restart_policy", "never"),
    ({"restart": "no"}, {}, "restart_policy", "never"),
    ({"restart": "unless-stopped"}, {}, "restart_policy", "always"),
    ({"restart": "on-failure"}, {}, "restart_policy", "on-failure"),
    ({"secrets": ["db_password"]}, {"secrets": {"db_password": {}}}, "secrets",
     {"db_password": "s3cret"}),
    ({"secrets": [{"source": "db_password", "target": "DB_PASSWORD"}]},
     {"secrets": {"db_password": {}}}, "secrets", {"DB_PASSWORD": "s3cret"}),
    ({"x-moorage": {"max_per_host": 2, "progress_deadline_s": 60}}, {}, "placement",
     {"constraints": [], "max_per_host": 2}),
    ({"x-other-tool": {"anything": 1}}, {}, "image", "busybox:1"),
]


@pytest.mark.parametrize(("service", "top", "field", "expected"), SUPPORTED,
                         ids=[f"{i}-{row[2]}" for i, row in enumerate(SUPPORTED)])
def test_a_supported_field_maps_onto_the_spec(service, top, field, expected):
    assert spec_of(service, top=top, secrets={"db_password": "s3cret"}
                   if "secrets" in top else None)[field] == expected


def test_x_moorage_progress_deadline():
    spec = spec_of({"x-moorage": {"progress_deadline_s": 60}})
    assert spec["update_strategy"]["progress_deadline_s"] == 60


@pytest.mark.parametrize(("depends_on", "expected"), [
    (["db"], (("db", "service_started"),)),
    ({"db": {"condition": "service_healthy"}}, (("db", "service_healthy"),)),
    ({"db": {"condition": "service_completed_successfully", "required": True}},
     (("db", "service_completed_successfully"),)),
])
def test_depends_on_and_its_conditions(depends_on, expected):
    doc = {"services": {"web": {"image": "a", "depends_on": depends_on}, "db": {"image": "b"}}}
    stack = compose.load(yaml.safe_dump(doc), "shop")
    assert stack.service("web").depends_on == expected
    assert stack.service("db").depends_on == ()


@pytest.mark.parametrize("action", ["rollback", "pause"])
def test_failure_action(action):
    stack = stack_of({"deploy": {"update_config": {"failure_action": action}}})
    assert stack.service("web").failure_action == action


def test_stack_volumes_are_the_stacks_and_external_ones_are_not():
    stack = stack_of({"volumes": ["data:/d", "cache:/c", "shared:/s"]},
                     top={"volumes": {"data": None, "cache": {}, "shared": {"external": True}}})
    assert stack.volumes == ("shop_cache", "shop_data")
    assert stack.external_volumes == ("shared",)


class _WithNetworksAndEndpoint(DeploymentSpec):
    """DeploymentSpec as the `networks` and `endpoint` branches extend it (the fields
    the mapping fills when this Moorage has them)."""

    networks: list[str] = []
    endpoint: dict[str, Any] | None = None


@pytest.fixture
def full_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (HAS_NETWORKS and HAS_ENDPOINT):
        monkeypatch.setattr(compose, "DeploymentSpec", _WithNetworksAndEndpoint)


NETWORKED = {"services": {"web": {"image": "a", "networks": ["front", "back"]},
                          "db": {"image": "b", "networks": {"back": None}},
                          "worker": {"image": "c"}},
             "networks": {"front": None, "back": {}}}


def test_networks_default_and_declared(full_spec: None):
    stack = compose.load(yaml.safe_dump(NETWORKED), "shop")
    assert stack.service("web").spec.networks == ["shop-back", "shop-front"]
    assert stack.service("db").spec.networks == ["shop-back"]
    assert stack.service("worker").spec.networks == ["shop-default"]
    assert stack.networks == ("shop-back", "shop-default", "shop-front")
    # Every service of a file without `networks` is on the stack's default network.
    plain = compose.load("services:\n  a: {image: a}\n  b: {image: b}\n", "shop")
    assert [s.spec.networks for s in plain.services] == [["shop-default"], ["shop-default"]]


def test_network_options_are_refused(full_spec: None):
    doc = {"services": {"web": {"image": "a", "networks": {"back": {"aliases": ["x"]}}}},
           "networks": {"back": None}}
    with pytest.raises(compose.ComposeInvalid) as info:
        compose.load(yaml.safe_dump(doc), "shop")
    assert info.value.problems[0].loc == ("services", "web", "networks", "back")
    doc = {"services": {"web": {"image": "a", "networks": ["nope"]}}}
    with pytest.raises(compose.ComposeInvalid) as info:
        compose.load(yaml.safe_dump(doc), "shop")
    assert "not declared" in info.value.problems[0].msg


def test_x_moorage_endpoint(full_spec: None):
    spec = spec_of({"x-moorage": {"endpoint": {"port": 8080, "hostnames": ["shop.example"]}}})
    assert {k: spec["endpoint"][k] for k in ("port", "hostnames")} == {
        "port": 8080, "hostnames": ["shop.example"]}


# (compose fragment of service `web`, top-level additions, where the problem is, what it says)
REFUSED = [
    ({"build": "."}, {}, ("build",), "does not build"),
    ({"privileged": True}, {}, ("privileged",), "root on the host"),
    ({"cap_add": ["NET_ADMIN"]}, {}, ("cap_add",), "capabilities"),
    ({"cap_drop": ["ALL"]}, {}, ("cap_drop",), "capabilities"),
    ({"devices": ["/dev/fuse"]}, {}, ("devices",), "devices"),
    ({"pid": "host"}, {}, ("pid",), "PID namespace"),
    ({"ipc": "host"}, {}, ("ipc",), "IPC"),
    ({"userns_mode": "host"}, {}, ("userns_mode",), "user namespace"),
    ({"security_opt": ["seccomp:unconfined"]}, {}, ("security_opt",), "security options"),
    ({"sysctls": {"net.core.somaxconn": 1024}}, {}, ("sysctls",), "kernel parameters"),
    ({"network_mode": "host"}, {}, ("network_mode",), "host network"),
    ({"network_mode": "bridge"}, {}, ("network_mode",), "host network"),
    ({"env_file": ".env"}, {}, ("env_file",), "reads a file"),
    ({"extends": "base"}, {}, ("extends",), "write the service out"),
    ({"links": ["db"]}, {}, ("links",), "by name"),
    ({"container_name": "web1"}, {}, ("container_name",), "container names are Moorage's"),
    ({"profiles": ["debug"]}, {}, ("profiles",), "profiles"),
    ({"volumes_from": ["db"]}, {}, ("volumes_from",), "another container's volumes"),
    ({"scale": 3}, {}, ("scale",), "deploy.replicas"),
    ({"user": "root"}, {}, ("user",), "user"),
    ({"tmpfs": ["/run"]}, {}, ("tmpfs",), "tmpfs"),
    ({"extra_hosts": ["a:1.2.3.4"]}, {}, ("extra_hosts",), "host entries"),
    ({"stop_grace_period": "10s"}, {}, ("stop_grace_period",), "timeout"),
    ({"working_dir": "/app"}, {}, ("working_dir",), "not supported"),
    ({"hostname": "x"}, {}, ("hostname",), "not supported"),
    ({"init": True}, {}, ("init",), "not supported"),
    ({"configs": ["c"]}, {}, ("configs",), "configs"),
    ({"nonsense": 1}, {}, ("nonsense",), "not in the Compose Specification"),
    ({"ports": 3}, {}, ("ports",), "not of type"),
    ({"ports": ["8000-8010:80"]}, {}, ("ports",), "ranges"),
    ({"ports": [{"target": 80, "mode": "ingress"}]}, {}, ("ports",), "routing mesh"),
    ({"ports": ["80/sctp"]}, {}, ("ports",), "sctp"),
    ({"environment": ["HOME"]}, {}, ("environment",), "has no value"),
    ({"environment": {"HOME": None}}, {}, ("environment",), "has no value"),
    ({"environment": {"A": "${HOME}"}}, {}, ("environment", "A"), "interpolation"),
    ({"command": "echo $PATH"}, {}, ("command",), "interpolation"),
    ({"volumes": ["/data"]}, {}, ("volumes",), "anonymous volume"),
    ({"volumes": ["./html:/www"]}, {}, ("volumes",), "relative host path"),
    ({"volumes": ["data:/d"]}, {}, ("volumes",), "not declared"),
    ({"volumes": ["data:/d:z"]}, {"volumes": {"data": None}}, ("volumes",), "mode 'z'"),
    ({"volumes": [{"type": "tmpfs", "target": "/t"}]}, {}, ("volumes",), "tmpfs"),
    ({"volumes": [{"type": "volume", "source": "d", "target": "/d", "volume": {"nocopy": True}}]},
     {"volumes": {"d": None}}, ("volumes",), "option 'volume'"),
    ({"volumes": ["d:/d"]}, {"volumes": {"d": {"driver": "nfs"}}}, ("volumes", "d", "driver"),
     "drivers"),
    ({"volumes": ["d:/d"]}, {"volumes": {"d": {"name": "other"}}}, ("volumes", "d", "name"),
     "external"),
    ({"healthcheck": {"test": ["CMD"]}}, {}, ("healthcheck",), "healthcheck.test"),
    ({"healthcheck": {"interval": "5s"}}, {}, ("healthcheck",), "needs `test`"),
    ({"healthcheck": {"test": "true", "start_interval": "1s"}}, {}, ("healthcheck",),
     "start_interval"),
    ({"healthcheck": {"test": "true", "interval": "soon"}}, {}, ("healthcheck",), "not a duration"),
    ({"restart": "on-failure:3"}, {}, ("restart",), "maximum of retries"),
    ({"deploy": {"mode": "global"}}, {}, ("deploy", "mode"), "replicated only"),
    ({"deploy": {"endpoint_mode": "dnsrr"}}, {}, ("deploy", "endpoint_mode"), "x-moorage.endpoint"),
    ({"deploy": {"rollback_config": {"parallelism": 1}}}, {}, ("deploy", "rollback_config"),
     "rolls back as a whole"),
    ({"deploy": {"labels": {"a": "b"}}}, {}, ("deploy", "labels"), "use `labels`"),
    ({"deploy": {"update_config": {"failure_action": "continue"}}}, {},
     ("deploy", "update_config", "failure_action"), "'continue' is not supported"),
    ({"deploy": {"update_config": {"max_failure_ratio": 0.5}}}, {},
     ("deploy", "update_config", "max_failure_ratio"), "not supported"),
    ({"deploy": {"update_config": {"order": "sideways"}}}, {},
     ("deploy", "update_config", "order"), "is not one of"),
    ({"deploy": {"resources": {"reservations": {"cpus": "1"}}}}, {},
     ("deploy", "resources", "reservations"), "limits"),
    ({"deploy": {"resources": {"limits": {"pids": 10}}}}, {},
     ("deploy", "resources", "limits", "pids"), "not supported"),
    ({"deploy": {"resources": {"limits": {"memory": "lots"}}}}, {},
     ("deploy", "resources", "limits"), "not a size"),
    ({"deploy": {"placement": {"constraints": ["node.role==manager"]}}}, {},
     ("deploy", "placement", "constraints", 0), "node.labels"),
    ({"deploy": {"placement": {"preferences": [{"spread": "node.labels.zone"}]}}}, {},
     ("deploy", "placement", "preferences"), "not supported"),
    ({"deploy": {"restart_policy": {"condition": "any", "max_attempts": 3}}}, {},
     ("deploy", "restart_policy", "max_attempts"), "back-off"),
    ({"depends_on": {"db": {"condition": "service_started", "restart": True}}},
     {}, ("depends_on", "db", "restart"), "does not restart"),
    ({"depends_on": {"db": {"condition": "service_started", "required": False}}},
     {}, ("depends_on", "db", "required"), "required"),
    ({"depends_on": ["nope"]}, {}, ("depends_on", "nope"), "no service 'nope'"),
    ({"depends_on": ["web"]}, {}, ("depends_on", "web"), "itself"),
    ({"secrets": ["pw"]}, {}, ("secrets", 0), "not declared"),
    ({"secrets": ["nopw"]}, {"secrets": {"nopw": {}}}, ("secrets", 0), "has no value"),
    ({"secrets": [{"source": "pw", "target": "/run/x"}]}, {"secrets": {"pw": {}}},
     ("secrets", 0), "environment variable"),
    ({"secrets": [{"source": "pw", "mode": 256}]}, {"secrets": {"pw": {}}},
     ("secrets", 0, "mode"), "environment variables"),
    ({}, {"secrets": {"pw": {"file": "./pw.txt"}}}, ("secrets", "pw", "file"), "write-only"),
    ({"x-moorage": {"autoscale": True}}, {}, ("x-moorage", "autoscale"), "not one of"),
    ({"image": "Not An Image"}, {}, ("image",), "not a valid image reference"),
    ({"labels": {"moorage.owner": "me"}}, {}, ("labels",), "reserved"),
    ({"environment": {"BAD-KEY": "x"}}, {}, ("environment",), "env"),
    ({"deploy": {"replicas": 5000}}, {}, ("deploy",), "replicas"),
]


@pytest.mark.parametrize(("service", "top", "where", "says"), REFUSED,
                         ids=[f"{i}-{'.'.join(map(str, row[2]))}" for i, row in enumerate(REFUSED)])
def test_a_refused_field_is_named_with_why(service, top, where, says):
    problems = problems_of(service, top=top,
                           secrets={"pw": "x"} if "pw" in (top.get("secrets") or {}) else {})
    locs = {p.loc: p.msg for p in problems}
    top_level = where[0] in ("volumes", "secrets") and len(where) == 3 and where[1] in (top.get(where[0]) or {})
    loc = where if top_level else ("services", "web", *where)
    assert loc in locs, problems
    assert says in locs[loc], locs[loc]


@pytest.mark.parametrize(("doc", "loc", "says"), [
    ({"services": {}}, ("services",), "at least one"),
    ({"services": {"Web_1": {"image": "a"}}}, ("services", "Web_1"), "DNS label"),
    ({"services": {"w" * 60: {"image": "a"}}}, ("services", "w" * 60), "over 63"),
    ({"services": {"web": {"command": "x"}}}, ("services", "web"), "needs `image`"),
    ({"name": "other", "services": {"web": {"image": "a"}}}, ("name",), "stack 'shop'"),
    ({"include": ["other.yaml"], "services": {"web": {"image": "a"}}}, ("include",), "other files"),
    ({"configs": {"c": {"file": "x"}}, "services": {"web": {"image": "a"}}}, ("configs",), "files"),
    ({"networks": {"n": {"driver": "overlay"}}, "services": {"web": {"image": "a"}}},
     ("networks", "n", "driver"), "drivers"),
    ({"services": {"a": {"image": "a", "depends_on": ["b"]},
                   "b": {"image": "b", "depends_on": ["a"]}}}, ("services", "a", "depends_on"),
     "cycle: a → b → a"),
])
def test_a_refused_document(doc, loc, says):
    with pytest.raises(compose.ComposeInvalid) as info:
        compose.load(yaml.safe_dump(doc), "shop")
    locs = {p.loc: p.msg for p in info.value.problems}
    assert loc in locs, info.value.problems
    assert says in locs[loc]


def test_a_secret_value_for_no_declared_secret_is_refused():
    with pytest.raises(compose.ComposeInvalid) as info:
        stack_of({}, secrets={"stray": "x"})
    assert info.value.problems[0].loc == ("secrets", "stray")


@pytest.mark.parametrize("text", ["", "- a\n- b", "services: [", "a: 1\na: 2\nservices: {}",
                                  "x" * (compose.MAX_TEXT + 1)])
def test_not_a_compose_mapping(text):
    with pytest.raises(compose.ComposeInvalid):
        compose.load(text, "shop")


def test_version_and_extensions_mean_nothing():
    doc = {"version": "3.9", "x-common": {"image": "a"},
           "services": {"web": {"image": "busybox:1", "x-note": "hi"}}}
    assert compose.load(yaml.safe_dump(doc), "shop") == stack_of({})


def test_every_problem_is_reported_at_once():
    problems = problems_of({"privileged": True, "pid": "host", "env_file": "x", "build": "."})
    assert {p.loc[-1] for p in problems} == {"privileged", "pid", "env_file", "build"}


# ---- YAML, read within bounds ----------------------------------------------------------

BASE = "services:\n  web:\n    image: busybox:1\n"


def refused(text: str) -> list[compose.Problem]:
    with pytest.raises(compose.ComposeInvalid) as info:
        compose.parse(text)
    return info.value.problems


def bomb(levels: int, width: int = 10) -> str:
    """Each level an anchored list of ``width`` aliases of the level before: a few
    hundred bytes that stand for ``width ** levels`` strings."""
    text = "x-bomb:\n  l0: &l0 [" + ",".join(["a"] * width) + "]\n"
    for i in range(1, levels):
        text += f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]\n"
    return text + BASE


def test_anchors_aliases_and_merge_keys_are_read_as_yaml_means_them():
    text = """
x-defaults: &defaults
  image: base:1
  restart: always
  environment: &env {MODE: prod, LEVEL: "3"}
  labels: {tier: back}
x-extra: &extra
  image: extra:1
  labels: {tier: front}
  deploy: {replicas: 2}
services:
  web:
    <<: *defaults
    image: web:1
  api:
    <<: [*extra, *defaults]
  worker:
    image: worker:1
    environment: *env
"""
    written = {
        "services": {
            "web": {"image": "web:1", "restart": "always",
                    "environment": {"MODE": "prod", "LEVEL": "3"}, "labels": {"tier": "back"}},
            # Of merged mappings the first wins; a key written in the mapping wins over both.
            "api": {"image": "extra:1", "restart": "always", "labels": {"tier": "front"},
                    "environment": {"MODE": "prod", "LEVEL": "3"}, "deploy": {"replicas": 2}},
            "worker": {"image": "worker:1", "environment": {"MODE": "prod", "LEVEL": "3"}},
        }}
    assert compose.load(text, "shop") == compose.load(json.dumps(written), "shop")
    assert compose.load(text, "shop").service("api").spec.replicas == 2


@pytest.mark.timeout(10)
@pytest.mark.parametrize("levels", [5, 8, 30])
def test_an_alias_bomb_is_refused_before_it_is_expanded(levels):
    text = bomb(levels)
    assert len(text) < 2000
    (problem,) = refused(text)
    assert problem.type == "yaml_aliases"
    assert f"over {compose.MAX_NODES} nodes" in problem.msg
    assert problem.loc[:2] == ("x-bomb", "l4")  # where the count went over


@pytest.mark.timeout(10)
def test_aliases_may_expand_a_file_only_so_much():
    # 4 levels: 12,357 nodes (11,110 strings) from 27 written; a small file may expand to
    # 10,000.
    (problem,) = refused(bomb(4))
    assert problem.type == "yaml_aliases" and problem.loc == ()
    assert "12357 nodes from 27 written" in problem.msg
    # Wide rather than deep: one anchor of 500, aliased 300 times.
    wide = "x-a: &a [" + ",".join(["a"] * 500) + "]\nx-b: [" + ",".join(["*a"] * 300) + "]\n"
    assert refused(wide + BASE)[0].type == "yaml_aliases"
    # Within the bounds a file is read, aliases expanded.
    doc = compose.parse(bomb(3))
    assert len(doc["x-bomb"]["l2"]) == 10 and doc["x-bomb"]["l2"][9][9] == list("aaaaaaaaaa")


@pytest.mark.parametrize("text", ["x-r: &r [a, *r]\n", "x-r: &r {a: *r}\n"])
def test_a_recursive_alias_is_refused(text):
    (problem,) = refused(text + BASE)
    assert problem.type == "yaml_aliases" and "recursive" in problem.msg
    assert problem.loc[0] == "x-r"


@pytest.mark.parametrize(("nested", "named_down_to"), [
    ("[" * 500 + "]" * 500, compose.MAX_DEPTH - 1),  # a key is a level too
    ("{a: " * 500 + "1" + "}" * 500, compose.MAX_DEPTH - 1),
    # Past libyaml's own bound (1,000 levels), which its scanner meets first, reading a
    # flow collection ahead: refused where the collection starts.
    ("[" * 5000 + "]" * 5000, 3),
])
def test_nesting_is_bounded(nested, named_down_to):
    (problem,) = refused(BASE + f"    labels: {nested}\n")
    assert problem.type == "yaml_depth" and f"over {compose.MAX_DEPTH}" in problem.msg
    assert problem.loc[:3] == ("services", "web", "labels") and "(line 4, column" in problem.msg
    assert len(problem.loc) >= named_down_to


def test_nesting_counts_what_aliases_stand_for():
    deep = compose.MAX_DEPTH - 1  # below the top-level mapping
    text = "x-a: &a " + "[" * deep + "]" * deep + "\n"
    compose.parse(text + BASE)  # as deep as may be
    (problem,) = refused(text + "x-b: [*a]\n" + BASE)  # one level more, through an alias
    assert problem.type == "yaml_depth" and problem.loc == ("x-b", 0)


@pytest.mark.parametrize(("text", "loc", "says"), [
    ("? [a, b]\n: 1\n" + BASE, (), "`[a, b]` (line 1, column 3) is a sequence"),
    ("services:\n  ? {a: 1}\n  : {image: nginx}\n", ("services",), "`{a: 1}`"),
    ("services:\n  1: {image: nginx}\n", ("services",), "`1` (line 2, column 3) is read as a number"),
    (BASE + "    environment: {~: x}\n", ("services", "web", "environment"), "`~` (line 4, column 19) is read as null"),
    (BASE + "    environment: {1.5: x}\n", ("services", "web", "environment"), "`1.5`"),
    (BASE + "    environment: {true: x}\n", ("services", "web", "environment"), "boolean"),
    ("x-a: {? !!binary aGk=\n  : b}\n" + BASE, ("x-a",), "`!!binary`"),
])
def test_a_key_is_a_string(text, loc, says):
    (problem,) = refused(text)
    assert problem.type == "yaml_key" and problem.loc == loc
    assert "a key is a string" in problem.msg and says in problem.msg, problem.msg


@pytest.mark.parametrize(("written", "read"), [
    # As Docker Compose reads them (go-yaml v3, YAML 1.2), not as YAML 1.1 did.
    ("22:22", "22:22"), ("yes", "yes"), ("No", "No"), ("on", "on"), ("OFF", "OFF"),
    ("y", "y"), ("2001-12-14", "2001-12-14"), ("2001-12-14T21:59:43Z", "2001-12-14T21:59:43Z"),
    ("=", "="), ("1:30", "1:30"),
    ("true", True), ("False", False), ("~", None), ("null", None), ("", None),
    ("12", 12), ("-12", -12), ("+12", 12), ("1_000", 1000), ("0", 0), ("0x1F", 31),
    ("0o17", 15), ("0b101", 5), ("0755", 493), ("1e3", 1000.0), ("1.5", 1.5), (".5", 0.5),
    ("'yes'", "yes"), ('"12"', "12"), ("!!str 12", "12"), ("!!int '12'", 12),
])
def test_plain_values_are_read_as_compose_reads_them(written, read):
    assert compose.parse(f"x-a: {written}\n" + BASE)["x-a"] == read


def test_a_port_pair_below_sixty_stays_a_port_pair():
    stack = compose.load(BASE + "    ports: [22:22]\n", "s")
    (port,) = stack.service("web").spec.ports
    assert (port.host_port, port.container_port) == (22, 22)


def test_restart_no_needs_no_quotes():
    stack = compose.load(BASE + "    restart: no\n", "s")  # YAML 1.1 read it as false
    assert stack.service("web").spec.restart_policy == "never"


def test_mapping_keys_yaml_once_read_as_booleans_or_dates_are_strings():
    doc = compose.parse(BASE + "    environment: {ON: x, no: y}\n    labels: {2020-01-01: z}\n")
    assert doc["services"]["web"]["environment"] == {"ON": "x", "no": "y"}
    assert doc["services"]["web"]["labels"] == {"2020-01-01": "z"}


@pytest.mark.parametrize("tagged", ["!!binary aGk=", "!!set {a}", "!!timestamp 2001-12-14",
                                    "!!omap [a: 1]", "!local x", "!!python/name:os.system"])
def test_tags_beyond_json_values_are_refused_where_they_stand(tagged):
    (problem,) = refused(BASE + f"    labels:\n      a:\n        - {tagged}\n")
    assert problem.type == "yaml_tag" and problem.loc == ("services", "web", "labels", "a", 0)
    assert f"`{tagged.split()[0]}` (line 6, column 11)" in problem.msg, problem.msg


def test_every_bad_key_is_named_at_once_and_quoted_keys_are_strings():
    problems = refused(BASE + "    environment: {1: a, '2': b, ~: c}\n    image: again\n")
    assert [(p.loc, p.msg.split(" (")[0]) for p in problems] == [
        (("services", "web", "environment"), "a key is a string here; the key `1`"),
        (("services", "web", "environment"), "a key is a string here; the key `~`"),
        (("services", "web", "image"), "duplicate key"),
    ]
    doc = compose.parse(BASE + "    environment: {'1': a, !!str 2: b}\n")
    assert doc["services"]["web"]["environment"] == {"1": "a", "2": "b"}


# ---- the same file maps to the same stack --------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
env_keys = st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True)
values = st.text(st.sampled_from("abcXYZ019 .:/-_=é'\"#{}[]"), max_size=12)


@st.composite
def services(draw, own: str, names_: list[str]) -> dict[str, Any]:
    svc: dict[str, Any] = {"image": draw(st.sampled_from(["busybox:1", "nginx:1.27", "web:v2"]))}
    if draw(st.booleans()):
        svc["environment"] = draw(st.dictionaries(env_keys, values, max_size=4))
    if draw(st.booleans()):
        svc["command"] = draw(st.lists(st.from_regex(r"[a-z0-9-]{1,6}", fullmatch=True),
                                       min_size=1, max_size=4))
    if draw(st.booleans()):
        svc["ports"] = [f"{p}" for p in draw(st.sets(st.integers(1, 65535), max_size=3))]
    if draw(st.booleans()):
        svc["healthcheck"] = {"test": ["CMD", "true"],
                              "interval": f"{draw(st.integers(1, 60))}s",
                              "retries": draw(st.integers(1, 5))}
    if draw(st.booleans()):
        svc["deploy"] = {"replicas": draw(st.integers(0, 5)),
                         "update_config": {"order": draw(st.sampled_from(["start-first", "stop-first"])),
                                           "parallelism": draw(st.integers(1, 3)),
                                           "failure_action": draw(st.sampled_from(["rollback", "pause"]))}}
    if draw(st.booleans()):
        svc["volumes"] = ["data:/data"]
    others = [n for n in names_ if n < own]  # no cycles: only on names before its own
    if others and draw(st.booleans()):
        svc["depends_on"] = {d: {"condition": draw(st.sampled_from(compose.CONDITIONS))}
                             for d in draw(st.lists(st.sampled_from(others), unique=True, min_size=1))}
    return svc


@st.composite
def documents(draw) -> dict[str, Any]:
    service_names = sorted(draw(st.sets(names, min_size=1, max_size=4)))
    doc: dict[str, Any] = {"services": {n: draw(services(n, service_names)) for n in service_names}}
    doc["volumes"] = {"data": None}
    return doc


def _shuffled(value: Any, rnd) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    """Writes YAML as Compose reads it: a string that YAML 1.2 would read as another type
    (`0800`, a number to go-yaml, a string to YAML 1.1) is quoted."""

    yaml_implicit_resolvers = yaml12.Resolver.yaml_implicit_resolvers


def _dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False)


@settings(max_examples=40, deadline=None)
@given(documents(), st.randoms(use_true_random=False))
def test_a_mapped_stack_maps_again_identically(doc, rnd):
    stack = compose.load(_dump(doc), "shop")
    # The same file again, its keys in another order, as YAML or as JSON (JSON is YAML).
    again = compose.load(_dump(_shuffled(doc, rnd)), "shop")
    as_json = compose.load(json.dumps(doc), "shop")
    assert again == stack == as_json
    assert json.dumps(again.canonical(), sort_keys=True) == json.dumps(stack.canonical(), sort_keys=True)
    # Every service is a deployment spec that is valid as it stands (the API's own model).
    for service in stack.services:
        assert DeploymentSpec.model_validate(service.spec.model_dump()) == service.spec
