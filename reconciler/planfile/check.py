"""Fast validation of parsed plan JSON against `schemas/plan.schema.json`.

jsonschema takes ~0.4 ms per action, minutes for the plan of a 100,000-user adoption, so `load_plan`
compiles the plan schema into plain Python checks instead. Each schema is compiled twice: into a yes/no test
that builds nothing on the way (a valid plan, the usual case, pays only this: about 7 us per action), and
into checks that name the path and the problem, run only when the test says no. Only the keywords the plan
schema uses are understood; any other keyword is refused when compiling, so the schema cannot grow a rule
this checker silently ignores. Tests check that both and jsonschema agree on random and tampered plans.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
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
    valid = compile_validity(schema)
    check = _Compiler(schema.get("$defs", {})).compile(schema)

    def first_failure(value: Any) -> Failure | None:
        if valid(value):
            return None
        # fail closed should the two ever disagree (tests hold them to jsonschema and to each other)
        return check(value, "") or ("", "does not match the schema")

    return first_failure


def compile_validity(schema: Mapping[str, Any]) -> Callable[[Any], bool]:
    """Compile a (plan) JSON Schema into a yes/no test: the checks of `compile_schema` without the paths
    and messages they would need only for a failure, so a valid value makes no string on the way."""
    return _Validity(schema.get("$defs", {})).compile(schema)


def _refuse_unknown_keywords(node: Mapping[str, Any]) -> None:
    unknown = set(node) - IGNORED - set(KEYWORDS)
    if unknown:
        raise SchemaCompileError(f"unsupported schema keywords: {sorted(unknown)}")


def _definition(target: str, defs: Mapping[str, Any]) -> str:
    """The `$defs` name a `$ref` points at (only local definitions are understood)."""
    name = target.removeprefix("#/$defs/")
    if name == target or name not in defs:
        raise SchemaCompileError(f"unsupported $ref {target!r}")
    return name


class _Compiler:
    def __init__(self, defs: Mapping[str, Any]) -> None:
        self.defs = defs
        self.compiled: dict[str, Check] = {}

    def compile(self, node: Mapping[str, Any]) -> Check:
        _refuse_unknown_keywords(node)
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
        name = _definition(target, self.defs)
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


# --- the yes/no test -----------------------------------------------------------------------------------

Valid = Callable[[Any], bool]
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
}
OBJECT_KEYWORDS = frozenset({"type", "required", "properties", "additionalProperties"})


class _Validity:
    """`_Compiler`'s rules as yes/no tests, one closure per schema node with its keywords merged."""

    def __init__(self, defs: Mapping[str, Any]) -> None:
        self.defs = defs
        self.compiled: dict[str, Valid] = {}

    def compile(self, node: Mapping[str, Any]) -> Valid:
        _refuse_unknown_keywords(node)
        if node.get("type") == "object" and set(node) - IGNORED <= OBJECT_KEYWORDS:
            return self._object(node)  # most nodes of a plan: one closure instead of three
        tests = list(self._tests(node))
        if not tests:
            return lambda _value: True
        return functools.reduce(_both, tests)

    def _tests(self, node: Mapping[str, Any]) -> Iterator[Valid]:
        if "$ref" in node:
            yield self._ref(node["$ref"])
        if "type" in node:
            yield _is_type(node["type"])
        if "const" in node:
            yield _is_one_of([node["const"]])
        if "enum" in node:
            yield _is_one_of(node["enum"])
        if "pattern" in node:
            search = re.compile(node["pattern"]).search
            yield lambda v: not isinstance(v, str) or search(v) is not None
        if "minimum" in node:
            bound = node["minimum"]
            yield lambda v: not TYPES["number"](v) or v >= bound
        if "required" in node:
            names = frozenset(node["required"])
            yield lambda v: not isinstance(v, dict) or v.keys() >= names
        if "properties" in node or "additionalProperties" in node:
            yield self._properties(node.get("properties", {}), node.get("additionalProperties", True))
        if "items" in node:
            item = self.compile(node["items"])
            yield lambda v: not isinstance(v, list) or all(map(item, v))
        for key in ("oneOf", "anyOf"):  # oneOf = anyOf here, as in `_any_of`
            if key in node:
                yield self._any(node[key])

    def _ref(self, target: str) -> Valid:
        name = _definition(target, self.defs)
        if name not in self.compiled:
            self.compiled[name] = lambda v: self.compiled[name](v)  # a recursive definition finds itself
            self.compiled[name] = self.compile(self.defs[name])
        return self.compiled[name]

    def _properties(self, props: Mapping[str, Any], extra: Any) -> Valid:
        tests = {name: self.compile(sub) for name, sub in props.items()}
        closed = extra is False
        extra_test = self.compile(extra) if isinstance(extra, dict) else None

        def valid(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                test = tests.get(key, extra_test)
                if test is None:
                    if closed:
                        return False
                elif not test(item):
                    return False
            return True

        return valid

    def _object(self, node: Mapping[str, Any]) -> Valid:
        names = frozenset(node.get("required", ()))
        props = self._properties(node.get("properties", {}), node.get("additionalProperties", True))
        return lambda v: isinstance(v, dict) and v.keys() >= names and props(v)

    def _any(self, subs: list[Mapping[str, Any]]) -> Valid:
        tests = [self.compile(sub) for sub in subs]
        if len(tests) == 2:  # "X or null"
            first, second = tests
            return lambda v: first(v) or second(v)
        return lambda v: any(test(v) for test in tests)


def _both(first: Valid, second: Valid) -> Valid:
    return lambda v: first(v) and second(v)


def _is_type(names: str | list[str]) -> Valid:
    wanted = [names] if isinstance(names, str) else names
    plain = tuple(t for n in wanted for t in JSON_TYPES.get(n, ()))
    others = [TYPES[n] for n in wanted if n not in JSON_TYPES]  # null, and numbers (never a bool)
    if not others:
        return lambda v: isinstance(v, plain)
    if wanted.count("null") == len(others):
        return lambda v: isinstance(v, plain) or v is None
    return lambda v: isinstance(v, plain) or any(test(v) for test in others)


def _is_one_of(options: list[Any]) -> Valid:
    # JSON equality (`_same`): strings by a set lookup, anything else option by option
    strings = frozenset(o for o in options if isinstance(o, str))
    rest = [o for o in options if not isinstance(o, str)]
    return lambda v: v in strings if isinstance(v, str) else any(_same(v, o) for o in rest)


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
