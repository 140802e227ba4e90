"""JSON Schema validation of manifest documents, with errors turned into positioned diagnostics.

The schemas in `reconciler/schemas/` serve both this loader and editors. A subschema may carry an
`errorMessage` (understood by yaml-language-server too); it replaces jsonschema's generic wording.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from reconciler.errors import Diagnostic, DiagnosticSink, EnrollctlError, Position, UsageError
from reconciler.manifest.yamlpos import KeyPath, YamlDocument, format_key_path

SCHEMA_FILES = {
    "enrollctl": "enrollctl.schema.json",
    "policy": "policy.schema.json",
    "plan": "plan.schema.json",
    "status": "status.schema.json",
}

_COMBINATORS = frozenset({"oneOf", "anyOf"})


def schema_text(name: str) -> str:
    """The text of a bundled JSON Schema by short name: enrollctl, policy or plan."""
    file_name = SCHEMA_FILES.get(name)
    if file_name is None:
        raise UsageError(f"unknown schema {name!r}", hint=f"choose one of {', '.join(SCHEMA_FILES)}")
    resource = resources.files("reconciler").joinpath("schemas", file_name)
    if not resource.is_file():
        raise EnrollctlError(f"schema {file_name} is not installed")
    return resource.read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> Mapping[str, Any]:
    """A bundled JSON Schema, parsed."""
    schema: Mapping[str, Any] = json.loads(schema_text(name))
    return schema


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def check_document(name: str, document: YamlDocument, sink: DiagnosticSink) -> bool:
    """Validate one YAML document against schema `name`; add a diagnostic per problem; True if valid."""
    found: dict[tuple[Position, str, str], Diagnostic] = {}
    for error in _validator(name).iter_errors(document.data):
        for leaf in _specific_errors(error):
            for diagnostic in _diagnostics(leaf, document):
                # if/then rules may fail on two keywords with one errorMessage: report it once
                found.setdefault((diagnostic.position, diagnostic.key_path, diagnostic.message), diagnostic)
    sink.items.extend(found.values())
    return not found


def _specific_errors(error: ValidationError) -> list[ValidationError]:
    """For a failed oneOf/anyOf over a mapping, the errors of the alternative the mapping was meant as.

    An alternative counts when it failed on the mapping's own keys (unknown, missing, or a nested value);
    of those, the one with the fewest errors wins. Otherwise the schema's `errorMessage` says it best.
    """
    if error.validator not in _COMBINATORS or not isinstance(error.instance, dict) or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    meant = [
        errors
        for errors in branches.values()
        if all(e.relative_path or _is_object_schema(e.schema) for e in errors)
    ]
    if not meant:
        return [error]
    best = min(meant, key=len)
    return [leaf for sub in best for leaf in _specific_errors(sub)]


def _is_object_schema(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "object"


def _diagnostics(error: ValidationError, document: YamlDocument) -> Iterator[Diagnostic]:
    path: KeyPath = tuple(error.absolute_path)
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if "propertyNames" in error.schema_path:
        path = (*path, str(error.instance))  # the offending key itself, not its mapping
    position = (
        document.key_position(path) if isinstance(error.instance, dict) else document.value_position(path)
    )
    key = format_key_path(path)
    if custom:
        yield Diagnostic(position, key, str(custom), _boolean_hint(error.instance))
    elif error.validator == "additionalProperties":
        for name in _unexpected_keys(error):
            child = (*path, name)
            yield Diagnostic(document.key_position(child), format_key_path(child), *_unknown_key(error, name))
    elif error.validator == "required":
        yield Diagnostic(position, key, _required_message(error))
    else:
        yield Diagnostic(position, key, _plain_message(error), _type_hint(error))


def _unexpected_keys(error: ValidationError) -> Iterator[str]:
    allowed = error.schema.get("properties", {})
    if isinstance(error.instance, dict):
        yield from (str(k) for k in error.instance if k not in allowed)


def _unknown_key(error: ValidationError, key: str) -> tuple[str, str]:
    """Message and hint for a key the schema does not know, suggesting the closest valid one."""
    properties = error.schema.get("properties", {})
    # deprecated keys (literal secrets) are refused with their own message: never suggest them
    valid = sorted(k for k, v in properties.items() if not (isinstance(v, dict) and v.get("deprecated")))
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(valid)}"
    return f"unknown key {key!r}", hint


def _required_message(error: ValidationError) -> str:
    missing = [
        k for k in error.validator_value if isinstance(error.instance, dict) and k not in error.instance
    ]
    names = ", ".join(repr(k) for k in missing) or str(error.validator_value)
    return f"missing required key {names}"


_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "array": "a list",
    "object": "a mapping",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bytes):
        return "binary data (!!binary)"
    return "a mapping"


def _plain_message(error: ValidationError) -> str:
    """jsonschema's wording rewritten for people editing YAML."""
    validator, expected, value = error.validator, error.validator_value, error.instance
    if validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(str(k), str(k)) for k in kinds)
        return f"expected {wanted}, found {_describe(value)}"
    if validator == "enum":
        return f"{value!r} is not one of {', '.join(repr(v) for v in expected)}"
    if validator == "const":
        return f"must be {expected!r}, found {value!r}"
    if validator == "pattern":
        return f"{value!r} has the wrong form"
    if validator == "minItems":
        return "must not be empty" if expected == 1 else f"needs at least {expected} entries"
    if validator in {"minProperties", "minLength"}:
        return "must not be empty"
    if validator == "uniqueItems":
        return "lists an entry twice"
    if validator in {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}:
        return f"{value!r} is out of range ({validator} {expected})"
    return str(error.message)


def _boolean_hint(value: Any) -> str:
    if isinstance(value, bool):
        return "YAML reads yes/no/on/off/true/false as booleans: quote a name like 'No' to keep it text"
    return ""


def _type_hint(error: ValidationError) -> str:
    """How to fix the usual YAML slips: `no` read as a boolean, one name where a list belongs."""
    expects_text = error.validator == "type" and "string" in (
        error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    )
    if expects_text and isinstance(error.instance, (bool, int, float)):
        return "quote the value to keep it text"
    if error.validator == "type" and error.validator_value == "array" and isinstance(error.instance, str):
        return f"write a list: [{error.instance}]"
    return ""
