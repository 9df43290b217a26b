"""The OpenAPI document flattened for people: what `templates/api/docs.html` renders.

The docs page and /api/v1/openapi.json come from one document, so they cannot disagree.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup, escape

from app.web.openapi import ERROR_CODES, JSON

_CODE_SPAN = re.compile(r"`([^`]+)`")


def inline_code(text: str) -> Markup:
    """Escaped text with Markdown `code` spans as <code>: all the Markdown the document uses."""
    html = Markup()
    # split() with a group alternates text and code: even parts are text, odd parts are code.
    for number, part in enumerate(_CODE_SPAN.split(text)):
        html += Markup("<code>%s</code>") % part if number % 2 else escape(part)
    return html


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _constraints(schema: JSON) -> list[str]:
    words = []
    if "enum" in schema:
        words.append("one of " + ", ".join(str(v) for v in schema["enum"]))
    for key, label in (("minimum", "min"), ("maximum", "max"), ("minLength", "min length"),
                       ("maxLength", "max length"), ("pattern", "pattern"),
                       ("default", "default")):  # fmt: skip
        if key in schema:
            words.append(f"{label} {schema[key]}")
    return words


def type_name(schema: JSON) -> str:
    """`integer`, `Money or null`, `array of Variant`, `object of string`…"""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_name(option) for option in schema["anyOf"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return "array of " + type_name(schema["items"])
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        inner = schema["additionalProperties"]
        return "object of " + (type_name(inner) if inner else "any")
    return str(kind)


def _example(response: JSON) -> str | None:
    example = response.get("content", {}).get("application/json", {}).get("example")
    return None if example is None else _pretty(example)


def _operation(path: str, method: str, operation: JSON) -> JSON:
    parameters = [
        {
            "name": p["name"],
            "where": p["in"],
            "required": p.get("required", False),
            "type": type_name(p["schema"]),
            "constraints": _constraints(p["schema"]),
            "description": inline_code(p.get("description", "")),
        }
        for p in operation.get("parameters", [])
    ]
    responses = [
        {"status": status, "description": r["description"], "example": _example(r)}
        for status, r in operation["responses"].items()
    ]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return {
        "body": None
        if body is None
        else {**_schema("body", body["schema"]), "example": _pretty(body["schema"].get("example"))},
        "id": operation["operationId"],
        "method": method.upper(),
        "path": path,
        "summary": operation["summary"],
        "description": inline_code(operation.get("description", "")),
        "parameters": parameters,
        "responses": responses,
    }


def _schema(name: str, schema: JSON) -> JSON:
    required = set(schema.get("required", []))
    fields = [
        {
            "name": field,
            "type": type_name(spec),
            "optional": field not in required,
            "constraints": [c for c in _constraints(spec) if not c.startswith("pattern")],
            "description": inline_code(spec.get("description", "")),
        }
        for field, spec in schema.get("properties", {}).items()
    ]
    return {
        "name": name,
        "description": inline_code(schema.get("description", "")),
        "fields": fields,
    }


def docs_context(document: JSON) -> JSON:
    """Operations, schemas and error codes of `document`, ready for the template."""
    operations = [
        _operation(path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    schemas = [_schema(name, s) for name, s in document["components"]["schemas"].items()]
    info = {**document["info"], "description": inline_code(document["info"]["description"])}
    return {
        "info": info,
        "operations": operations,
        "schemas": schemas,
        "error_codes": {code: inline_code(text) for code, text in ERROR_CODES.items()},
    }
