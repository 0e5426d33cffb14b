"""A Compose file, read as a Moorage stack: validated, then mapped onto deployment specs.

Two checks, in order, and every problem of a check is reported at once:

1. The Compose Specification's own JSON Schema, as ``check-jsonschema`` ships it (kept
   up to date there, never copied here), validated with ``jsonschema``. Unknown keys,
   wrong types and misspellings end here.
2. Moorage's own: each field Compose has but Moorage cannot honour (``build``,
   ``privileged``, ``network_mode: host``, ``env_file`` ...) is named with why. Nothing
   is silently ignored: a field is mapped, or refused, or (``expose``, ``version``,
   extensions ``x-*``) documented as meaning nothing here.

The mapping is pure (no I/O, no clock): the same text and secrets always make the same
``Stack``, whatever the order of keys in the file, so applying a file twice changes
nothing. Each service becomes a deployment ``<stack>-<service>`` whose spec is a
validated ``DeploymentSpec``.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema
import yaml
from pydantic import ValidationError

from app import yaml12
from app.schemas.common import DNS_LABEL
from app.schemas.deployments import ENV_KEY, DeploymentSpec

Loc = tuple[str | int, ...]

CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
FAILURE_ACTIONS = ("rollback", "pause")
MAX_TEXT = 512 * 1024


@dataclass(frozen=True)
class Problem:
    loc: Loc  # within the Compose document: ("services", "web", "privileged")
    msg: str
    type: str = "compose_unsupported"


class ComposeInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(f"{'.'.join(map(str, first.loc)) or '(file)'}: {first.msg}")


@dataclass(frozen=True)
class Service:
    name: str
    deployment: str  # <stack>-<service>
    spec: DeploymentSpec
    # (dependency, condition), sorted: what must hold before this service is applied.
    depends_on: tuple[tuple[str, str], ...] = ()
    # What a failed rollout of this service does to the stack's release.
    failure_action: str = "rollback"

    def canonical(self) -> dict[str, Any]:
        spec = self.spec.model_dump(mode="json", exclude={"secrets"})
        return {"name": self.name, "deployment": self.deployment, "spec": spec,
                "secret_keys": sorted(self.spec.secrets),
                "depends_on": [list(d) for d in self.depends_on],
                "failure_action": self.failure_action}


@dataclass(frozen=True)
class Stack:
    name: str
    services: tuple[Service, ...]  # sorted by name
    # Engine names of the named volumes the stack owns (removed only when asked), and of
    # external ones it uses but never removes.
    volumes: tuple[str, ...] = ()
    external_volumes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()  # engine names of the stack's networks
    notes: tuple[str, ...] = field(default=(), compare=False)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def canonical(self) -> dict[str, Any]:
        """Everything the stack means, secret values aside, as plain JSON (stored with a
        revision; equal for equal stacks)."""
        return {"services": [s.canonical() for s in self.services],
                "volumes": list(self.volumes), "external_volumes": list(self.external_volumes),
                "networks": list(self.networks)}


# ---- reasons ---------------------------------------------------------------------------

_HOST = "a Moorage spec never reaches the host (README: host paths and access)"
REFUSED: dict[str, str] = {
    "build": "Moorage runs images, it does not build them: build and push the image, "
             "then name it in `image`",
    "privileged": "it gives the container root on the host; " + _HOST,
    "cap_add": "added capabilities: " + _HOST,
    "cap_drop": "capabilities are not configurable in Moorage",
    "devices": "host devices: " + _HOST,
    "device_cgroup_rules": "host devices: " + _HOST,
    "gpus": "host devices: " + _HOST,
    "pid": "the host's PID namespace: " + _HOST,
    "ipc": "a shared IPC namespace: " + _HOST,
    "uts": "the host's UTS namespace: " + _HOST,
    "userns_mode": "the user namespace: " + _HOST,
    "cgroup": "the cgroup namespace: " + _HOST,
    "cgroup_parent": "the cgroup tree: " + _HOST,
    "security_opt": "security options: " + _HOST,
    "sysctls": "kernel parameters: " + _HOST,
    "network_mode": "services join the stack's networks; the host network (and another "
                    "container's) is refused: " + _HOST,
    "use_api_socket": "the Docker socket: " + _HOST,
    "volumes_from": "another container's volumes: name a stack volume instead",
    "env_file": "it reads a file on the machine that runs Compose; put the values in "
                "`environment`, or secret ones in `secrets` (sent to the API)",
    "label_file": "it reads a file on the machine that runs Compose; put the labels in `labels`",
    "extends": "it reads another service or file; write the service out",
    "links": "links are legacy: services reach each other by name on the stack's network",
    "external_links": "links are legacy: services reach each other by name on the stack's network",
    "container_name": "container names are Moorage's (one per replica, several per service)",
    "profiles": "every service of a stack runs; profiles select none",
    "configs": "configs are files from the machine that runs Compose; use `environment` "
               "or `secrets`",
    "scale": "use `deploy.replicas`",
    "user": "the image's user is used; Moorage sets none",
    "provider": "services managed by another provider are not Moorage's",
    "models": "AI models are not supported",
    "tmpfs": "tmpfs mounts are not supported",
    "extra_hosts": "host entries are not supported: services reach each other by name",
    "stop_grace_period": "Moorage stops containers with its own timeout",
    "post_start": "lifecycle hooks are not supported",
    "pre_start": "lifecycle hooks are not supported",
    "pre_stop": "lifecycle hooks are not supported",
    "develop": "development (watch) settings are for `docker compose watch`",
    "pull_policy": "Moorage pulls by its own rule: a revision pins the image its tag means",
}
DEFAULT_REASON = "not supported by Moorage"
# What a service may say; every other key is refused (``expose`` is checked and means
# nothing more here: on the stack's network every port is reachable).
SERVICE_KEYS = {"image", "command", "entrypoint", "environment", "ports", "expose", "volumes",
                "networks", "healthcheck", "depends_on", "deploy", "restart", "labels",
                "secrets", "x-moorage"}
TOP_REFUSED = {
    "include": "it reads other files; write one file",
    "configs": "configs are files from the machine that runs Compose",
    "models": "AI models are not supported",
    "jobs": "jobs are not supported",
}


# ---- the schema ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    text = (resources.files("check_jsonschema.builtin_schemas.vendor")
            / "compose-spec.json").read_text("utf-8")
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _schema_problems(doc: Any) -> list[Problem]:
    out = []
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    # A known key whose value is invalid is also "unevaluated" (2020-12): not unknown.
    invalid = {tuple(e.absolute_path)[:n] for e in errors for n in range(len(e.absolute_path) + 1)}
    for e in errors:
        loc = tuple(e.absolute_path)
        if e.validator in ("additionalProperties", "unevaluatedProperties") \
                and isinstance(e.instance, dict):
            # One problem per unknown key, naming it (the schema's message lists them all).
            named = [k for k in e.instance if f"'{k}'" in e.message]
            unknown = [k for k in named if (*loc, k) not in invalid]
            for key in unknown if named else [None]:
                if key is None:
                    out.append(Problem(loc, e.message, "compose_schema"))
                else:
                    out.append(Problem((*loc, key), "unknown field: not in the Compose "
                                                    "Specification", "compose_schema"))
            continue
        msg = e.message if len(e.message) <= 300 else e.message[:300] + "…"
        out.append(Problem(loc, msg, "compose_schema"))
    return out


# ---- parsing ---------------------------------------------------------------------------
#
# YAML is read within bounds, since anchors and aliases let a few hundred bytes stand for
# a document of billions of nodes (every later step walks the document as if each alias
# were written out) and PyYAML recurses once per level of nesting. While the document is
# composed, before anything is built from it, each node's size and height are counted
# with its aliases expanded (an alias costs what its anchor does), and the document is
# refused at once past a limit: the work is bounded, never raced.

MAX_DEPTH = 64  # levels of nesting, aliases expanded
MAX_NODES = 100_000  # nodes, aliases expanded
# Aliases may expand a document to ALIAS_RATIO times the nodes written (go-yaml's rule,
# as Kubernetes reads YAML), or to ALIAS_FLOOR nodes whichever is more (so a small file
# may use anchors freely), and never past MAX_NODES.
ALIAS_RATIO = 10
ALIAS_FLOOR = 10_000

_KINDS = {yaml12.INT: "a number", yaml12.FLOAT: "a number", yaml12.BOOL: "a boolean",
          yaml12.NULL: "null"}


def _where(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


class _Loader(yaml12.Loader):
    """YAML as Docker Compose reads it (app/yaml12.py), within bounds (``MAX_DEPTH``,
    ``MAX_NODES``, ``ALIAS_RATIO``); each key a string, and a key written twice in a
    mapping an error (PyYAML keeps the last silently); any tag for a value JSON has not
    refused where it stands. ``<<`` merge keys are YAML's: a key written in the mapping
    wins over a merged one, and of merged mappings the first."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.text = stream
        self.path: list[str | int] = []  # where the node being composed is
        self.depth = 0
        self.reach = 0  # the deepest level the node being composed reaches, expanded
        self.written = 0  # nodes as written
        self.expanded = 0  # nodes with aliases expanded
        # Every node composed: its size and height, aliases expanded.
        self.sizes: dict[yaml.Node, tuple[int, int]] = {}
        self.keys: dict[yaml.Node, set[str]] = {}  # a mapping's keys, as composed
        self.problems: list[Problem] = []  # of keys (every one, then refused)

    def _refuse(self, msg: str, mark: yaml.Mark, kind: str) -> ComposeInvalid:
        return ComposeInvalid([Problem(tuple(self.path), f"{msg} ({_where(mark)})", kind)])

    def _count(self, nodes: int, reach: int, mark: yaml.Mark) -> None:
        self.expanded += nodes
        self.reach = max(self.reach, reach)
        if reach > MAX_DEPTH:
            raise self._refuse(f"nested over {MAX_DEPTH} levels deep (aliases expanded)",
                               mark, "yaml_depth")
        if self.expanded > MAX_NODES:
            raise self._refuse(f"the file is over {MAX_NODES} nodes (aliases expanded)",
                               mark, "yaml_aliases")

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        segment = _segment(parent, index, self.text)
        if segment is not None:
            self.path.append(segment)
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)  # the anchor's node (or undefined)
            if node not in self.sizes:
                raise self._refuse("an alias within the node it names (a recursive alias)",
                                   mark, "yaml_aliases")
            nodes, height = self.sizes[node]
            self._count(nodes, self.depth + height, mark)
        else:
            self.written += 1
            self.depth += 1
            outer, self.reach = self.reach, self.depth
            start = self.expanded
            self._count(1, self.depth, mark)
            node = super().compose_node(parent, index)
            self.sizes[node] = (self.expanded - start, self.reach - self.depth + 1)
            self.keys.pop(node, None)
            self.depth -= 1
            self.reach = max(outer, self.reach)
        if isinstance(parent, yaml.MappingNode) and index is None:
            self._key(parent, node)
        elif node.tag not in yaml12.JSON_TAGS and node.tag != yaml12.MERGE:
            self.problems.append(Problem(tuple(self.path), (
                f"the tag `{yaml12.shown(node.tag)}` ({_where(node.start_mark)}) is not read here: "
                "a Compose file holds strings, numbers, booleans, null, lists and mappings"),
                "yaml_tag"))
        if segment is not None:
            self.path.pop()
        return node

    def _key(self, mapping: yaml.MappingNode, key: yaml.Node) -> None:
        if key.tag == yaml12.MERGE:
            return
        if not isinstance(key, yaml.ScalarNode) or key.tag != yaml12.STR:
            if isinstance(key, yaml.ScalarNode):
                why = f"is read as {_KINDS.get(key.tag, f'`{yaml12.shown(key.tag)}`')}: quote it"
            else:
                why = f"is a {'sequence' if isinstance(key, yaml.SequenceNode) else 'mapping'}"
            self.problems.append(Problem(
                tuple(self.path), f"a key is a string here; the key `{_text(key, self.text)}` "
                f"({_where(key.start_mark)}) {why}", "yaml_key"))
            return
        seen = self.keys.setdefault(mapping, set())
        if key.value in seen:
            self.problems.append(Problem((*self.path, key.value), f"duplicate key "
                                         f"({_where(key.start_mark)})", "yaml_key"))
        seen.add(key.value)

    def check_aliases(self) -> None:
        allowed = max(ALIAS_FLOOR, ALIAS_RATIO * self.written)
        if self.expanded > allowed:
            raise ComposeInvalid([Problem((), (
                f"its aliases expand the file to {self.expanded} nodes from {self.written} "
                f"written: at most {ALIAS_RATIO} times those written (or {ALIAS_FLOOR}) "
                "are read"), "yaml_aliases")])


def _segment(parent: yaml.Node | None, index: Any, source: str) -> str | int | None:
    """The step into a child node: its index in a sequence, its key in a mapping."""
    if isinstance(parent, yaml.SequenceNode):
        return int(index)
    if isinstance(parent, yaml.MappingNode) and isinstance(index, yaml.Node):
        return index.value if isinstance(index, yaml.ScalarNode) else _text(index, source)
    return None


def _text(node: yaml.Node, source: str) -> str:
    """A node as written in ``source``, shortened."""
    if isinstance(node, yaml.ScalarNode):
        text = node.value
    else:
        text = " ".join(source[node.start_mark.index:node.end_mark.index].split()) or (
            "a sequence" if isinstance(node, yaml.SequenceNode) else "a mapping")
    return text if len(text) <= 40 else text[:40] + "…"


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    # Keys are strings and not repeated (the loader checked while composing).
    out: dict[str, Any] = {}
    merged: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag != yaml12.MERGE:
            out[key_node.value] = loader.construct_object(value_node, deep=True)
            continue
        sources = (value_node.value if isinstance(value_node, yaml.SequenceNode)
                   else [value_node])
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise yaml.constructor.ConstructorError(
                    None, None, f"`<<` merges a mapping or a list of mappings, not {source.id}",
                    source.start_mark)
            for k, v in loader.construct_object(source, deep=True).items():
                merged.setdefault(k, v)
    return {**merged, **out} if merged else out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse(text: str) -> dict[str, Any]:
    """The file's YAML (JSON is YAML too) as a mapping, read within bounds."""
    if len(text) > MAX_TEXT:
        raise ComposeInvalid([Problem((), f"the file is over {MAX_TEXT} characters", "too_long")])
    try:
        text.encode("utf-8")  # libyaml reads UTF-8: a lone surrogate (from JSON) is not text
    except UnicodeEncodeError as exc:
        raise ComposeInvalid([Problem((), f"not text: {exc.reason} at character {exc.start}",
                                      "yaml")]) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if loader.problems:
            raise ComposeInvalid(loader.problems)
        loader.check_aliases()
        doc = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):  # libyaml's own bound, past ours
            mark = getattr(exc, "problem_mark", None)
            where = f" ({_where(mark)})" if mark is not None else ""
            raise ComposeInvalid([Problem(tuple(loader.path), f"nested over {MAX_DEPTH} "
                                          f"levels deep{where}", "yaml_depth")]) from exc
        raise ComposeInvalid([Problem((), f"not YAML: {exc}", "yaml")]) from exc
    finally:
        loader.dispose()
    if not isinstance(doc, dict):
        raise ComposeInvalid([Problem((), "a Compose file is a mapping with `services`", "yaml")])
    return doc


_INTERPOLATION = re.compile(r"\$(?!\$)")


def _unescape(value: Any, loc: Loc, problems: list[Problem]) -> Any:
    """``$$`` is a literal ``$``; any other ``$`` is an interpolation from the environment
    of the machine running Compose, which Moorage does not have: refused, not passed on."""
    if isinstance(value, str):
        if _INTERPOLATION.search(value.replace("$$", "")):
            problems.append(Problem(loc, "variable interpolation (`$VAR`, `${VAR}`) is not "
                                         "supported: write the value (or `$$` for a `$`)"))
            return value
        return value.replace("$$", "$")
    if isinstance(value, dict):
        return {k: _unescape(v, (*loc, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v, (*loc, i), problems) for i, v in enumerate(value)]
    return value


# ---- small conversions -----------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


class _Bad(ValueError):
    """One field's value Moorage cannot take; the message says why."""


def duration_s(value: Any) -> float:
    """Compose durations: ``1m30s``, ``10s``, ``500ms`` (a bare number is seconds)."""
    if isinstance(value, bool):
        raise _Bad(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise _Bad(f"{value!r} is not a duration (e.g. 30s, 1m30s, 500ms)")
    return round(sum(float(n) * _UNITS[u] for n, u in parts), 6)


def memory_mb(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        m = _SIZE.match(str(value).strip())
        if not m:
            raise _Bad(f"{value!r} is not a size (e.g. 512m, 1g)")
        size = float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()]
    return max(1, math.ceil(size / 1024**2))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _argv(value: Any) -> list[str]:
    """A command: a list as it is, a string split as a shell would (Compose's rule)."""
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError as exc:
        raise _Bad(f"cannot split {value!r}: {exc}") from exc


def _pairs(value: Any, what: str) -> dict[str, str]:
    """``{K: V}`` or ``["K=V"]`` (labels, environment)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if v is None:
                raise _Bad(f"{what} {k!r} has no value: Compose would take it from the "
                           f"environment of the machine running it; write the value")
            out[str(k)] = _scalar(v)
        return out
    out = {}
    for item in value or []:
        key, sep, val = str(item).partition("=")
        if not sep:
            raise _Bad(f"{what} {key!r} has no value: Compose would take it from the "
                       f"environment of the machine running it; write `{key}=value`")
        out[key] = val
    return out


# ---- the service fields ----------------------------------------------------------------


def _ports(value: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in value:
        if isinstance(item, dict):
            extra = sorted(set(item) - {"target", "published", "host_ip", "protocol", "mode", "name"})
            if extra:
                raise _Bad(f"port option {extra[0]!r} is not supported")
            if item.get("mode", "host") != "host":
                raise _Bad("mode ingress (Swarm's routing mesh) is not Moorage's: ports are "
                           "published on each replica's host (mode: host); for one stable "
                           "address use x-moorage.endpoint")
            published = item.get("published")
            out.append(_port(item["target"], published, item.get("host_ip"),
                             item.get("protocol", "tcp")))
            continue
        text = str(item)
        text, _, proto = text.partition("/")
        host_ip = None
        if text.startswith("["):  # [::1]:8080:80
            end = text.find("]")
            host_ip, text = text[1:end], text[end + 2:]
        parts = text.split(":")
        if len(parts) == 3:
            host_ip, published, target = parts
        elif len(parts) == 2:
            published, target = parts
        elif len(parts) == 1:
            published, target = None, parts[0]
        else:
            raise _Bad(f"{item!r} is not a port mapping")
        out.append(_port(target, published or None, host_ip or None, proto or "tcp"))
    return out


def _port_number(value: Any) -> int:
    text = str(value)
    if "-" in text:
        raise _Bad(f"port ranges ({text}) are not supported: list each port")
    if not text.isdigit():
        raise _Bad(f"{text!r} is not a port number")
    return int(text)


def _port(target: Any, published: Any, host_ip: Any, protocol: str) -> dict[str, Any]:
    if protocol not in ("tcp", "udp"):
        raise _Bad(f"protocol {protocol!r} is not supported (tcp or udp)")
    port: dict[str, Any] = {"container_port": _port_number(target), "protocol": protocol,
                            "host_port": None if published in (None, "") else _port_number(published)}
    if host_ip:
        port["host_ip"] = str(host_ip)
    return port


@dataclass
class _Context:
    stack: str
    volumes: dict[str, str]  # declared name -> engine name
    networks: dict[str, str]
    secrets: Mapping[str, str]  # values, from the request
    declared_secrets: frozenset[str] = frozenset()  # the file's top-level `secrets`


def _volumes(value: list[Any], ctx: _Context) -> list[dict[str, Any]]:
    out = []
    for item in value:
        if isinstance(item, dict):
            kind = item.get("type")
            extra = sorted(set(item) - {"type", "source", "target", "read_only"})
            if extra:
                raise _Bad(f"volume option {extra[0]!r} is not supported")
            if kind not in ("volume", "bind"):
                raise _Bad(f"volume type {kind!r} is not supported (volume or bind)")
            source, target, ro = item.get("source"), item.get("target"), bool(item.get("read_only"))
        else:
            parts = str(item).split(":")
            if len(parts) == 1:
                raise _Bad(f"{item!r} is an anonymous volume, which does not survive a "
                           "redeploy: name it (`data:{item}`) and declare it under `volumes`")
            if len(parts) > 3:
                raise _Bad(f"{item!r} is not source:target[:ro|rw]")
            source, target = parts[0], parts[1]
            mode = parts[2] if len(parts) == 3 else "rw"
            if mode not in ("ro", "rw"):
                raise _Bad(f"volume mode {mode!r} is not supported (ro or rw)")
            ro = mode == "ro"
            kind = "bind" if source.startswith(("/", ".", "~")) else "volume"
        if not source or not target:
            raise _Bad("a volume needs a source and a target")
        if kind == "bind":
            if not source.startswith("/"):
                raise _Bad(f"{source!r} is a relative host path: there is no project "
                           "directory on a Docker host; give an absolute path (an admin "
                           "must allow it) or a named volume")
        elif source not in ctx.volumes:
            raise _Bad(f"volume {source!r} is not declared in the top-level `volumes`")
        else:
            source = ctx.volumes[source]
        out.append({"source": source, "target": target, "read_only": ro})
    return out


def _health(value: dict[str, Any]) -> dict[str, Any] | None:
    if value.get("disable"):
        return None
    extra = sorted(set(value) - {"test", "interval", "timeout", "retries", "start_period",
                                 "disable"} - {k for k in value if str(k).startswith("x-")})
    if extra:
        raise _Bad(f"healthcheck.{extra[0]} is not supported")
    test = value.get("test")
    if test is None:
        raise _Bad("a healthcheck needs `test` (the image's own HEALTHCHECK is not read)")
    if isinstance(test, str):
        argv = ["/bin/sh", "-c", test]
    elif test and test[0] == "NONE":
        return None
    elif test and test[0] == "CMD" and len(test) > 1:
        argv = [str(a) for a in test[1:]]
    elif test and test[0] == "CMD-SHELL" and len(test) == 2:
        argv = ["/bin/sh", "-c", str(test[1])]
    else:
        raise _Bad("healthcheck.test is [\"CMD\", args...], [\"CMD-SHELL\", command], "
                   "[\"NONE\"] or a shell command")
    check: dict[str, Any] = {"exec": argv}
    for key, to in (("interval", "interval_s"), ("timeout", "timeout_s"),
                    ("start_period", "start_period_s")):
        if key in value:
            check[to] = duration_s(value[key])
    if "retries" in value:
        check["retries"] = value["retries"]
    return check


def _restart(value: str) -> str:
    mapped = {"no": "never", "always": "always", "on-failure": "on-failure",
              "unless-stopped": "always"}.get(value)
    if mapped is None:
        raise _Bad(f"restart {value!r} is not supported (no, always, on-failure, "
                   "unless-stopped); a maximum of retries is not")
    return mapped


def _constraint(text: str) -> str:
    m = re.fullmatch(r"\s*node\.labels\.([^=!\s]+)\s*(==|!=)\s*(\S.*?)\s*", text)
    if not m:
        raise _Bad(f"constraint {text!r}: only node.labels.KEY==VALUE (or !=) maps onto "
                   "Moorage's host labels")
    return f"{m.group(1)}{m.group(2)}{m.group(3)}"


def _deploy(value: dict[str, Any], loc: Loc, problems: list[Problem], spec: dict[str, Any],
            meta: dict[str, Any]) -> None:
    def bad(key: str | Loc, msg: str) -> None:
        problems.append(Problem((*loc, *((key,) if isinstance(key, str) else key)), msg))

    for key in value:
        if str(key).startswith("x-"):
            continue
        if key not in ("replicas", "update_config", "resources", "placement", "restart_policy", "mode"):
            why = {"rollback_config": "a stack rolls back as a whole, each service with its "
                                      "previous revision's own update_config",
                   "labels": "service-level labels are Swarm's; use `labels`",
                   "endpoint_mode": "use x-moorage.endpoint for one stable address"}
            bad(key, why.get(key, DEFAULT_REASON))
    if value.get("mode", "replicated") != "replicated":
        bad("mode", f"mode {value['mode']!r} is not supported (replicated only)")
    if "replicas" in value:
        spec["replicas"] = value["replicas"]
    replicas = value.get("replicas", 1)

    if (uc := value.get("update_config")) is not None:
        for key in uc:
            if key not in ("parallelism", "delay", "order", "failure_action", "monitor") \
                    and not str(key).startswith("x-"):
                bad(("update_config", key), DEFAULT_REASON)
        try:
            parallelism = int(uc.get("parallelism", 1))
            if parallelism < 0:
                raise _Bad("parallelism cannot be negative")
            step = parallelism or max(1, int(replicas))  # 0: all at once
            order = uc.get("order", "start-first")
            if order == "stop-first":
                strategy: dict[str, Any] = {"max_surge": 0, "max_unavailable": step}
            elif order == "start-first":
                strategy = {"max_surge": step, "max_unavailable": 0}
            else:
                raise _Bad(f"order {order!r} is not start-first or stop-first")
            wait = duration_s(uc.get("delay", 0)) + duration_s(uc.get("monitor", 0))
            if wait:
                strategy["min_ready_s"] = wait
            spec["update_strategy"] = {**spec.get("update_strategy", {}), **strategy}
        except (_Bad, ValueError) as exc:
            bad("update_config", str(exc))
        action = uc.get("failure_action", "rollback")
        if action not in FAILURE_ACTIONS:
            bad(("update_config", "failure_action"),
                f"{action!r} is not supported: a stack's release is rolled back (rollback) "
                "or stopped where it failed (pause)")
        else:
            meta["failure_action"] = action

    if (res := value.get("resources")) is not None:
        if "reservations" in res:
            bad(("resources", "reservations"),
                "Moorage places replicas by their limits (a limit is what it reserves): "
                "use limits")
        limits = res.get("limits") or {}
        out: dict[str, Any] = {}
        for key in limits:
            if key not in ("cpus", "memory") and not str(key).startswith("x-"):
                bad(("resources", "limits", key), DEFAULT_REASON)
        try:
            if "cpus" in limits:
                out["cpus"] = float(limits["cpus"])
            if "memory" in limits:
                out["memory_mb"] = memory_mb(limits["memory"])
        except (_Bad, ValueError) as exc:
            bad(("resources", "limits"), str(exc))
        if out:
            spec["resources"] = out

    if (pl := value.get("placement")) is not None:
        placement: dict[str, Any] = {}
        for key in pl:
            if key not in ("constraints", "max_replicas_per_node") and not str(key).startswith("x-"):
                bad(("placement", key), DEFAULT_REASON)
        constraints = []
        for i, c in enumerate(pl.get("constraints") or []):
            try:
                constraints.append(_constraint(str(c)))
            except _Bad as exc:
                bad(("placement", "constraints", i), str(exc))
        if constraints:
            placement["constraints"] = constraints
        if "max_replicas_per_node" in pl:
            placement["max_per_host"] = pl["max_replicas_per_node"]
        if placement:
            spec["placement"] = {**spec.get("placement", {}), **placement}

    if (rp := value.get("restart_policy")) is not None:
        for key in rp:
            if key != "condition" and not str(key).startswith("x-"):
                bad(("restart_policy", key), "Moorage restarts with its own back-off; only "
                                             "`condition` is taken")
        condition = rp.get("condition", "any")
        mapped = {"none": "never", "on-failure": "on-failure", "any": "always"}.get(condition)
        if mapped is None:
            bad(("restart_policy", "condition"), f"{condition!r} is not none, on-failure or any")
        else:
            spec["restart_policy"] = mapped


X_MOORAGE = {"endpoint", "max_per_host", "progress_deadline_s"}


def _service(name: str, svc: dict[str, Any], ctx: _Context,
             problems: list[Problem]) -> Service | None:
    loc: Loc = ("services", name)
    start = len(problems)

    def bad(key: str | Loc, msg: str) -> None:
        problems.append(Problem((*loc, *((key,) if isinstance(key, str) else key)), msg))

    deployment = f"{ctx.stack}-{name}"
    if not re.match(DNS_LABEL, name):
        bad((), "a service name here is a DNS label (a-z, 0-9, -), since its deployment "
                f"{deployment!r} and its name on the network are")
    elif len(deployment) > 63:
        bad((), f"the deployment name {deployment!r} is over 63 characters")

    spec: dict[str, Any] = {}
    meta: dict[str, Any] = {"failure_action": "rollback"}
    # Which Compose field each spec field came from, to name it in a spec error.
    origin: dict[str, Loc] = {}
    supported = DeploymentSpec.model_fields

    for key in svc:
        if str(key).startswith("x-") and key != "x-moorage":
            continue  # extensions are for other tools, by the Compose Specification
        if key not in SERVICE_KEYS:
            bad(key, REFUSED.get(key, DEFAULT_REASON))

    if "build" not in svc and "image" not in svc:
        bad((), "a service needs `image`")

    def take(key: str, to: str, convert) -> None:
        if key not in svc:
            return
        try:
            spec[to] = convert(svc[key])
            origin[to] = (key,)
        except _Bad as exc:
            bad(key, str(exc))

    take("image", "image", str)
    take("command", "command", _argv)
    take("entrypoint", "entrypoint", _argv)
    take("environment", "env", lambda v: _pairs(v, "variable"))
    take("labels", "labels", lambda v: _pairs(v, "label"))
    take("ports", "ports", _ports)
    take("volumes", "volumes", lambda v: _volumes(v, ctx))
    take("restart", "restart_policy", _restart)
    if "healthcheck" in svc:
        try:
            if (check := _health(svc["healthcheck"])) is not None:
                spec["health_check"] = check
                origin["health_check"] = ("healthcheck",)
        except _Bad as exc:
            bad("healthcheck", str(exc))
    for i, port in enumerate(svc.get("expose") or []):
        try:
            _port_number(str(port).partition("/")[0])
        except _Bad as exc:
            bad(("expose", i), str(exc))

    if "deploy" in svc:
        _deploy(svc["deploy"] or {}, (*loc, "deploy"), problems, spec, meta)
        for to in ("replicas", "update_strategy", "resources", "placement"):
            origin.setdefault(to, ("deploy",))
        if "restart_policy" in (svc["deploy"] or {}):
            origin["restart_policy"] = ("deploy", "restart_policy")

    # The stack, not each deployment, decides what a failed rollout does (all roll back).
    spec["update_strategy"] = {**spec.get("update_strategy", {}), "auto_rollback": False}

    secrets: dict[str, str] = {}
    for i, item in enumerate(svc.get("secrets") or []):
        source = item if isinstance(item, str) else item.get("source")
        target = source if isinstance(item, str) else item.get("target", source)
        if isinstance(item, dict) and (extra := sorted(set(item) - {"source", "target"})):
            bad(("secrets", i, extra[0]), "secrets are passed as environment variables; "
                                          "file options do not apply")
            continue
        if source not in ctx.declared_secrets:
            bad(("secrets", i), f"secret {source!r} is not declared in the top-level `secrets`")
        elif source not in ctx.secrets:
            bad(("secrets", i), f"secret {source!r} has no value: send it in the request's "
                                "`secrets` (write-only)")
        elif not re.match(ENV_KEY, str(target)):
            bad(("secrets", i), f"{target!r} is not an environment variable name: Moorage "
                                "passes a secret as one (set `target`)")
        else:
            secrets[str(target)] = ctx.secrets[source]
    if secrets:
        spec["secrets"] = secrets
        origin["secrets"] = ("secrets",)

    if "networks" in svc or ctx.networks:
        names = svc.get("networks", ["default"] if "default" in ctx.networks else [])
        if isinstance(names, dict):
            for net, options in names.items():
                if options and any(not str(k).startswith("x-") for k in options):
                    bad(("networks", net), "network options (aliases, addresses) are not "
                        f"supported: members are reached by deployment name ({deployment})")
            names = list(names)
        joined = []
        for net in names:
            if net not in ctx.networks:
                bad(("networks",), f"network {net!r} is not declared in the top-level `networks`")
            else:
                joined.append(ctx.networks[net])
        if joined:
            if "networks" in supported:
                spec["networks"] = sorted(set(joined))
                origin["networks"] = ("networks",)
            elif "networks" in svc:
                bad("networks", "networks are not available in this Moorage")

    depends: dict[str, str] = {}
    raw = svc.get("depends_on") or {}
    if isinstance(raw, list):
        raw = {d: {"condition": "service_started"} for d in raw}
    for dep, options in raw.items():
        options = options or {}
        for key in options:
            if key not in ("condition", "required", "restart") and not str(key).startswith("x-"):
                bad(("depends_on", dep, key), DEFAULT_REASON)
        if options.get("required", True) is not True:
            bad(("depends_on", dep, "required"), "every dependency of a stack is required")
        if options.get("restart"):
            bad(("depends_on", dep, "restart"), "a dependency's update does not restart its "
                                                "dependents in Moorage")
        condition = options.get("condition", "service_started")
        if condition not in CONDITIONS:
            bad(("depends_on", dep, "condition"), f"{condition!r} is not one of {', '.join(CONDITIONS)}")
        depends[str(dep)] = condition

    if (x := svc.get("x-moorage")) is not None:
        if not isinstance(x, dict):
            bad("x-moorage", "a mapping of endpoint, max_per_host, progress_deadline_s")
            x = {}
        for key in x:
            if key not in X_MOORAGE:
                bad(("x-moorage", key), f"not one of {', '.join(sorted(X_MOORAGE))}")
        if "endpoint" in x:
            if "endpoint" in supported:
                spec["endpoint"] = x["endpoint"]
                origin["endpoint"] = ("x-moorage", "endpoint")
            else:
                bad(("x-moorage", "endpoint"), "endpoints are not available in this Moorage")
        if "max_per_host" in x:
            spec["placement"] = {**spec.get("placement", {}), "max_per_host": x["max_per_host"]}
            origin["placement"] = ("x-moorage", "max_per_host")
        if "progress_deadline_s" in x:
            spec["update_strategy"] = {**spec["update_strategy"],
                                       "progress_deadline_s": x["progress_deadline_s"]}

    if len(problems) > start:
        return None
    try:
        model = DeploymentSpec.model_validate(spec)
    except ValidationError as exc:
        for e in exc.errors(include_url=False, include_input=False):
            first = str(e["loc"][0]) if e["loc"] else ""
            where = origin.get(first, ())
            spec_path = ".".join(str(p) for p in e["loc"])
            problems.append(Problem((*loc, *where), f"{e['msg']} (as the deployment's "
                                                    f"`{spec_path}`)", "value_error"))
        return None
    return Service(name, deployment, model, tuple(sorted(depends.items())),
                   meta["failure_action"])


def _cycle(services: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A depends_on cycle, as the services on it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for d in sorted(services.get(n, ())):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state and (found := visit(d)):
                return found
        path.pop()
        state[n] = 2
        return None

    for n in sorted(services):
        if n not in state and (found := visit(n)):
            return found
    return None


def load(text: str, stack: str, secrets: Mapping[str, str] | None = None) -> Stack:
    """The Compose file ``text`` as the stack ``stack`` (a DNS label); ``secrets``: the
    values of its top-level ``secrets``. Raises ``ComposeInvalid`` with every problem."""
    return from_document(parse(text), stack, secrets or {})


def from_document(doc: dict[str, Any], stack: str, secrets: Mapping[str, str]) -> Stack:
    problems = _schema_problems(doc)
    if problems:
        raise ComposeInvalid(problems)
    doc = _unescape(doc, (), problems)

    for key in doc:
        if key in TOP_REFUSED:
            problems.append(Problem((key,), TOP_REFUSED[key]))
    if doc.get("name") not in (None, stack):
        problems.append(Problem(("name",), f"the file names project {doc['name']!r}, but this "
                                           f"is stack {stack!r}: drop `name`, or make them equal"))

    volumes: dict[str, str] = {}
    external: list[str] = []
    for vname, options in (doc.get("volumes") or {}).items():
        options = options or {}
        extra = sorted(k for k in options if k not in ("external", "name", "labels")
                       and not str(k).startswith("x-"))
        if extra:
            problems.append(Problem(("volumes", vname, extra[0]),
                                    "volume drivers and their options are not supported "
                                    "(an admin makes such a volume; use it with external: true)"))
        if options.get("external"):
            volumes[vname] = str(options.get("name") or vname)
            external.append(volumes[vname])
        elif "name" in options:
            problems.append(Problem(("volumes", vname, "name"),
                                    f"a stack's volumes are named by it ({stack}_{vname}); "
                                    "a volume of another name must be external"))
        else:
            volumes[vname] = f"{stack}_{vname}"

    networks: dict[str, str] = {}
    for nname, options in (doc.get("networks") or {}).items():
        options = options or {}
        if extra := sorted(k for k in options if not str(k).startswith("x-")):
            problems.append(Problem(("networks", nname, extra[0]),
                                    "network drivers and options are not supported: each "
                                    "stack network is a bridge network per host"))
        networks[nname] = f"{stack}-{nname}"
    services_doc = doc.get("services") or {}
    if not services_doc:
        problems.append(Problem(("services",), "a stack needs at least one service"))
    # Compose's rule: a service that names no network joins the stack's default one.
    if ("networks" in DeploymentSpec.model_fields and "default" not in networks
            and any("networks" not in (s or {}) for s in services_doc.values())):
        networks["default"] = f"{stack}-default"

    declared = set(doc.get("secrets") or {})
    for sname, options in (doc.get("secrets") or {}).items():
        for key in options or {}:
            if not str(key).startswith("x-"):
                problems.append(Problem(("secrets", sname, key),
                                        "a secret's value is sent to the API (write-only "
                                        "`secrets` of the request), not read from a file, the "
                                        "environment or a Swarm"))
    ctx = _Context(stack, volumes, networks, secrets, frozenset(declared))

    mapped = []
    for sname in sorted(services_doc):
        service = _service(str(sname), services_doc[sname] or {}, ctx, problems)
        if service is not None:
            mapped.append(service)
    names = set(services_doc)
    for sname in sorted(services_doc):
        for dep in (services_doc[sname] or {}).get("depends_on") or {}:
            if dep not in names:
                problems.append(Problem(("services", sname, "depends_on", dep),
                                        f"no service {dep!r} in this file"))
            elif dep == sname:
                problems.append(Problem(("services", sname, "depends_on", dep),
                                        "a service cannot depend on itself"))
    graph = {s.name: [d for d, _ in s.depends_on] for s in mapped}
    if not problems and (cycle := _cycle(graph)):
        problems.append(Problem(("services", cycle[0], "depends_on"),
                                f"depends_on has a cycle: {' → '.join(cycle)}"))
    unused = sorted(set(secrets) - declared)
    for sname in unused:
        problems.append(Problem(("secrets", sname), "a value for a secret the file does not "
                                                    "declare", "secret_unknown"))
    if problems:
        raise ComposeInvalid(problems)
    owned = tuple(sorted(v for v in volumes.values() if v not in external))
    return Stack(stack, tuple(mapped), owned, tuple(sorted(set(external))),
                 tuple(sorted(set(networks.values()))))
