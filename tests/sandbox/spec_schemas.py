"""Turns schemas from Avito's OpenAPI 3.0 files into JSON Schema that ``jsonschema`` can check.

OpenAPI 3.0 is almost JSON Schema: ``$ref``s point into ``components``, ``nullable: true``
stands for "or null", and ``format`` carries OpenAPI-only words. ``strict`` adds
``additionalProperties: false`` to every object that lists its properties, so a field the
sandbox invents (and Avito does not document) fails the check too.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

# shared/ sits beside the repository, not inside it.
SPEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "avito-spec"

# OpenAPI's numeric formats; the spec types ids as int32 although real ids exceed it, so
# these are dropped rather than checked.
OPENAPI_ONLY_FORMATS = {"int32", "int64", "float", "double"}


def load_spec(name: str) -> dict | None:
    path = SPEC_DIR / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def resolve(spec: dict, ref: str) -> dict:
    node = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def to_json_schema(node, spec: dict, *, strict: bool = False, depth: int = 0):
    if depth > 50:
        raise ValueError("schema nesting too deep (a $ref cycle?)")
    if isinstance(node, list):
        return [to_json_schema(item, spec, strict=strict, depth=depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return to_json_schema(resolve(spec, node["$ref"]), spec, strict=strict, depth=depth + 1)
    out = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: to_json_schema(sub, spec, strict=strict, depth=depth + 1) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[key] = to_json_schema(value, spec, strict=strict, depth=depth + 1)
        elif key in ("nullable", "example", "x-examples", "description", "default"):
            continue
        elif key == "format" and value in OPENAPI_ONLY_FORMATS:
            continue
        else:
            out[key] = copy.deepcopy(value)
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if strict and out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def response_schema(spec: dict, path: str, method: str, status: str = "200", *, strict: bool = False) -> dict:
    response = spec["paths"][path][method]["responses"][status]
    raw = response["content"]["application/json"]["schema"]
    return to_json_schema(raw, spec, strict=strict)


def component_schema(spec: dict, name: str, *, strict: bool = False) -> dict:
    return to_json_schema(spec["components"]["schemas"][name], spec, strict=strict)
