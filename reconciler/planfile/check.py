"""Fast validation of parsed plan JSON against `schemas/plan.schema.json`.

jsonschema takes ~0.4 ms per action, minutes for the plan of a 100,000-user adoption, so `load_plan`
compiles the plan schema into plain Python checks instead (~50x faster). Only the keywords the plan schema
uses are understood; any other keyword is refused when compiling, so the schema cannot grow a rule this
checker silently ignores. Tests check that this and jsonschema agree on random and tampered plans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# A check returns None when the value is valid, else (path of the offending value, message).
Failure = tuple[str, str]
Check = Callable[[Any, str], Failure | None]

IGNORED = frozenset({"$schema", "$id", "$defs", "title", "description"})
TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


class SchemaCompileError(Exception):
    """The plan schema uses a keyword this checker does not implement."""


def compile_schema(schema: Mapping[str, Any]) -> Callable[[Any], Failure | None]:
    """Compile a (plan) JSON Schema into a function returning the first failure, or None."""
    compiler = _Compiler(schema.get("$defs", {}))
    check = compiler.compile(schema)
    return lambda value: check(value, "")


class _Compiler:
    def __init__(self, defs: Mapping[str, Any]) -> None:
        self.defs = defs
        self.compiled: dict[str, Check] = {}

    def compile(self, node: Mapping[str, Any]) -> Check:
        unknown = set(node) - IGNORED - set(KEYWORDS)
        if unknown:
            raise SchemaCompileError(f"unsupported schema keywords: {sorted(unknown)}")
        built = [KEYWORDS[key](self, node[key], node) for key in KEYWORDS if key in node]
        checks = [c for c in built if c is not None]
        if len(checks) == 1:
            return checks[0]

        def all_of(value: Any, path: str) -> Failure | None:
            for check in checks:
                failure = check(value, path)
                if failure is not None:
                    return failure
            return None

        return all_of

    def ref(self, target: str, _node: Mapping[str, Any]) -> Check:
        name = target.removeprefix("#/$defs/")
        if name == target or name not in self.defs:
            raise SchemaCompileError(f"unsupported $ref {target!r}")
        if name not in self.compiled:
            self.compiled[name] = self.compile(self.defs[name])
        return self.compiled[name]


def _type(_c: _Compiler, names: str | list[str], _node: Mapping[str, Any]) -> Check:
    tests = [TYPES[n] for n in ([names] if isinstance(names, str) else names)]
    wanted = names if isinstance(names, str) else ", ".join(names)

    def check(value: Any, path: str) -> Failure | None:
        if any(test(value) for test in tests):
            return None
        return path, f"{value!r} is not of type {wanted!r}"

    return check


def _same(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, but 1 is 1.0.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _enum(_c: _Compiler, options: list[Any], _node: Mapping[str, Any]) -> Check:
    def check(value: Any, path: str) -> Failure | None:
        if any(_same(value, option) for option in options):
            return None
        return path, f"{value!r} is not one of {options!r}"

    return check


def _const(_c: _Compiler, expected: Any, _node: Mapping[str, Any]) -> Check:
    def check(value: Any, path: str) -> Failure | None:
        return None if _same(value, expected) else (path, f"{expected!r} was expected")

    return check


def _pattern(_c: _Compiler, pattern: str, _node: Mapping[str, Any]) -> Check:
    regex = re.compile(pattern)

    def check(value: Any, path: str) -> Failure | None:
        if not isinstance(value, str) or regex.search(value):
            return None
        return path, f"{value!r} does not match {pattern!r}"

    return check


def _minimum(_c: _Compiler, bound: float, _node: Mapping[str, Any]) -> Check:
    def check(value: Any, path: str) -> Failure | None:
        if not TYPES["number"](value) or value >= bound:
            return None
        return path, f"{value!r} is less than the minimum of {bound!r}"

    return check


def _required(_c: _Compiler, names: list[str], _node: Mapping[str, Any]) -> Check:
    def check(value: Any, path: str) -> Failure | None:
        if isinstance(value, dict):
            for name in names:
                if name not in value:
                    return path, f"{name!r} is a required property"
        return None

    return check


def _properties(c: _Compiler, props: Mapping[str, Any], node: Mapping[str, Any]) -> Check:
    checks = {name: c.compile(sub) for name, sub in props.items()}
    extra = node.get("additionalProperties", True)
    extra_check = c.compile(extra) if isinstance(extra, dict) else None

    def check(value: Any, path: str) -> Failure | None:
        if not isinstance(value, dict):
            return None
        unexpected = [k for k in value if k not in checks]
        if unexpected and extra is False:
            names = ", ".join(repr(k) for k in unexpected)
            verb = "was" if len(unexpected) == 1 else "were"
            return path, f"Additional properties are not allowed ({names} {verb} unexpected)"
        for key, item in value.items():
            sub = checks.get(key, extra_check)
            failure = sub(item, _join(path, key)) if sub is not None else None
            if failure is not None:
                return failure
        return None

    return check


def _additional(c: _Compiler, extra: Any, node: Mapping[str, Any]) -> Check | None:
    if "properties" in node:
        return None  # handled together with `properties`
    return _properties(c, {}, {"additionalProperties": extra})


def _items(c: _Compiler, sub: Mapping[str, Any], _node: Mapping[str, Any]) -> Check:
    item_check = c.compile(sub)

    def check(value: Any, path: str) -> Failure | None:
        if not isinstance(value, list):
            return None
        for index, item in enumerate(value):
            failure = item_check(item, f"{path}[{index}]")
            if failure is not None:
                return failure
        return None

    return check


def _any_of(c: _Compiler, subs: list[Mapping[str, Any]], _node: Mapping[str, Any]) -> Check:
    # The plan schema uses oneOf only for "X or null", whose branches cannot both match, so oneOf = anyOf.
    checks = [c.compile(sub) for sub in subs]

    def check(value: Any, path: str) -> Failure | None:
        failures = []
        for sub in checks:
            failure = sub(value, path)
            if failure is None:
                return None
            failures.append(failure)
        # Report the branch that got deepest (e.g. inside the object rather than "is not null").
        return max(failures, key=lambda f: len(f[0]))

    return check


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _dispatch_ref(c: _Compiler, target: str, node: Mapping[str, Any]) -> Check:
    return c.ref(target, node)


KEYWORDS: dict[str, Callable[[_Compiler, Any, Mapping[str, Any]], Check | None]] = {
    "$ref": _dispatch_ref,
    "type": _type,
    "const": _const,
    "enum": _enum,
    "pattern": _pattern,
    "minimum": _minimum,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
    "oneOf": _any_of,
    "anyOf": _any_of,
}
