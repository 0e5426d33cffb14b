"""YAML as Docker Compose reads it (go-yaml v3: YAML 1.2's core schema), for every YAML
file Moorage reads: Compose files (``app.stacks.compose``, which adds its bounds) and the
CLI's deployment files.

PyYAML alone reads YAML 1.1, where `yes`, `on` and `off` are booleans, `22:22` is 1342
(base 60) and `2001-12-14` a date. Here plain scalars are resolved as go-yaml does:
only `true` and `false` (in three casings) are booleans, `~`, `null` and the empty value
null; `0o17`, `0x1F`, `0b101`, `1_000`, `1e3` and `.inf` numbers, and `0755` still octal
(go-yaml keeps YAML 1.1's octal). Everything else is a string.

A document holds JSON's values only: strings, numbers, booleans, null, sequences and
mappings (``JSON_TAGS``); a tag for another type (`!!binary`, `!!set`, `!!timestamp`,
`!custom`) is not read.

The text is scanned and parsed by libyaml (C) where PyYAML has it, as its wheels do
(``PARSING``); composing and constructing stay in Python.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"
MERGE = "tag:yaml.org,2002:merge"  # `<<`
JSON_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, SEQ, MAP})

_RESOLVED = [
    (NULL, r"~|null|Null|NULL|"),
    (BOOL, r"true|True|TRUE|false|False|FALSE"),
    (INT, r"[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)"),
    (FLOAT, r"[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"),
    (MERGE, r"<<"),
]

try:
    from yaml._yaml import CParser
except ImportError:  # a PyYAML built without libyaml
    PARSING: tuple[type, ...] = (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)
else:
    PARSING = (CParser,)


class Resolver(yaml.resolver.BaseResolver):
    """go-yaml's resolution of plain scalars, in place of YAML 1.1's."""

    yaml_implicit_resolvers: dict = {}


for _tag, _pattern in _RESOLVED:
    Resolver.add_implicit_resolver(_tag, re.compile(f"^(?:{_pattern})$"), None)


class Constructor(yaml.constructor.SafeConstructor):
    """JSON's values, integers as go-yaml reads them; any other tag is an error."""

    yaml_constructors = {
        tag: constructor
        for tag, constructor in yaml.constructor.SafeConstructor.yaml_constructors.items()
        if tag in JSON_TAGS
    }

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node).replace("_", "")
        digits = text.lstrip("+-")
        try:
            if digits[:2] in ("0b", "0o", "0x"):
                return int(text, 0)
            return int(text, 8 if len(digits) > 1 and digits[0] == "0" else 10)  # 0755
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{text!r} is not an integer", node.start_mark) from exc

    def construct_undefined(self, node: yaml.Node) -> Any:
        raise yaml.constructor.ConstructorError(
            None, None, f"the tag `{shown(node.tag)}` is not read: a value is a string, "
            "number, boolean, null, list or mapping", node.start_mark)


Constructor.add_constructor(INT, Constructor.construct_yaml_int)
# `<<` is a merge as a mapping's key (handled with the mapping), a string elsewhere.
Constructor.add_constructor(MERGE, Constructor.construct_yaml_str)
Constructor.add_constructor(None, Constructor.construct_undefined)


class Loader(yaml.composer.Composer, Constructor, Resolver, *PARSING):
    """A safe loader reading YAML as go-yaml v3 does."""

    def __init__(self, stream: str) -> None:
        if PARSING[0] is yaml.reader.Reader:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
        else:
            PARSING[0].__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        Constructor.__init__(self)
        Resolver.__init__(self)


def load_all(text: str) -> list[Any]:
    """Every document of ``text``; ``yaml.YAMLError`` (or ``UnicodeEncodeError`` for text
    that is not Unicode throughout, a lone surrogate) when it is not YAML as read here."""
    return list(yaml.load_all(text, Loader=Loader))


def shown(tag: str) -> str:
    """A tag as it is written: ``!!binary`` for ``tag:yaml.org,2002:binary``."""
    return tag.replace("tag:yaml.org,2002:", "!!")
