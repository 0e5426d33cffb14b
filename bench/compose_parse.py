"""CPU to read a Compose file at the size limit: Moorage's bounded reading against PyYAML's
own loaders, in one run.

    .venv/bin/python -m bench.compose_parse [--rounds 3]

For each shape of file, the largest the API reads (within ``compose.MAX_TEXT`` characters
and ``compose.MAX_NODES`` nodes):

* ``wide``      many services, each with labels and an environment (plain scalars);
* ``flow``      the same values written as flow mappings and sequences (JSON-like);
* ``anchors``   one anchored mapping merged (``<<: *base``) into every service;

it prints the CPU seconds (process time, best of ``--rounds``) of ``compose.parse`` (the
bounds counted while composing, YAML 1.2's resolution), of ``yaml.load`` with
``SafeLoader`` (PyYAML in Python, no bounds), and with ``CSafeLoader`` (libyaml, no bounds)
where PyYAML has it, and the ratios; and of ``compose.load``, the whole reading of a stack
(the Compose schema, Moorage's own checks, the deployment specs). No database, engine or
network.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import yaml

from app import yaml12
from app.stacks import compose


def _wide(n: int) -> str:
    out = ["services:"]
    for i in range(n):
        out += [f"  s{i}:", "    image: busybox:1", "    labels:"]
        out += [f"      team.example/key{j}: value-{i}-{j}" for j in range(8)]
        out += ["    environment:"] + [f"      VAR_{j}: '{i * j}'" for j in range(8)]
    return "\n".join(out) + "\n"


def _flow(n: int) -> str:
    out = ["services:"]
    for i in range(n):
        labels = ", ".join(f'"team.example/key{j}": "value-{i}-{j}"' for j in range(8))
        env = ", ".join(f'"VAR_{j}=v{i * j}"' for j in range(8))
        out.append(f"  s{i}: {{image: busybox:1, labels: {{{labels}}}, environment: [{env}]}}")
    return "\n".join(out) + "\n"


def _anchors(n: int) -> str:
    base = ["x-base: &base", "  image: busybox:1", "  labels:"]
    base += [f"    team.example/key{j}: value-{j}" for j in range(8)]
    out = [*base, "services:"]
    for i in range(n):
        out += [f"  s{i}:", "    <<: *base", "    environment:"]
        out += [f"      VAR_{j}: '{i * j}'" for j in range(6)]
    return "\n".join(out) + "\n"


def _nodes(node: yaml.Node) -> int:
    """Nodes with aliases expanded (an alias's node is walked again where it is used)."""
    if isinstance(node, yaml.ScalarNode):
        return 1
    if isinstance(node, yaml.SequenceNode):
        return 1 + sum(_nodes(n) for n in node.value)
    return 1 + sum(_nodes(k) + _nodes(v) for k, v in node.value)


def _within(text: str) -> bool:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return len(text) <= compose.MAX_TEXT and _nodes(yaml.compose(text, Loader=loader)) \
        <= compose.MAX_NODES


def _at_limit(make: Callable[[int], str]) -> str:
    """The largest file of this shape that is read: within MAX_TEXT and MAX_NODES."""
    low, high = 1, 1
    while _within(make(high)):
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if _within(make(mid)) else (low, mid)
    return make(low)


def _cpu(fn: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    c_loader = getattr(yaml, "CSafeLoader", None)
    parsing = yaml12.PARSING[0]
    print(f"compose.parse reads with {parsing.__module__}.{parsing.__name__}; "
          f"PyYAML {yaml.__version__}, libyaml {'yes' if c_loader else 'no'}")
    print("| file | characters | compose.parse (s) | SafeLoader (s) | CSafeLoader (s) "
          "| parse / SafeLoader | parse / CSafeLoader | compose.load, all checks (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, make in (("wide", _wide), ("flow", _flow), ("anchors", _anchors)):
        text = _at_limit(make)
        ours = _cpu(lambda t=text: compose.parse(t), args.rounds)
        python = _cpu(lambda t=text: yaml.load(t, Loader=yaml.SafeLoader), args.rounds)
        libyaml = (_cpu(lambda t=text: yaml.load(t, Loader=c_loader), args.rounds)
                   if c_loader else float("nan"))
        whole = _cpu(lambda t=text: compose.load(t, "bench"), args.rounds)
        print(f"| {name} | {len(text):,} | {ours:.3f} | {python:.3f} | {libyaml:.3f} "
              f"| {ours / python:.2f}× | {ours / libyaml:.2f}× | {whole:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
