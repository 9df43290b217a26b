"""The OpenAPI document and the docs page made from it: complete, valid, and truthful examples."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema_rs  # comes with schemathesis (the test extra)
import pytest
from starlette.routing import Route

from app.catalog.openapi import document
from app.main import create_starlette
from app.settings import Settings
from app.web.errors import CODES
from app.web.openapi import ERROR_CODES

pytestmark = pytest.mark.anyio


def _responses(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path} {status}", status, response)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
    ]


def test_every_component_is_a_valid_json_schema() -> None:
    for name, schema in document()["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_every_example_matches_its_schema() -> None:
    doc = document()
    checked = 0
    for label, _, response in _responses(doc):
        content = response.get("content", {}).get("application/json")
        if content is None:
            continue
        # A root whose $refs resolve against the document's components.
        schema = {**content["schema"], "components": doc["components"]}
        errors = [
            e.message for e in jsonschema_rs.validator_for(schema).iter_errors(content["example"])
        ]
        assert errors == [], label
        checked += 1
    assert checked >= 8


def test_the_document_names_every_api_route() -> None:
    app = create_starlette(Settings())
    served = {
        re.sub(r":\w+\}", "}", route.path)  # /products/{id_or_slug:str} as OpenAPI spells it
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
    }

    assert set(document()["paths"]) == served - {"/api/v1/openapi.json", "/api/v1/docs"}


def test_error_codes_the_app_can_send_are_documented() -> None:
    assert set(CODES.values()) <= set(ERROR_CODES)
    for label, status, response in _responses(document()):
        if status.startswith("4"):
            codes = response["content"]["application/json"]["schema"]["allOf"][1]
            assert set(codes["properties"]["code"]["enum"]) <= set(ERROR_CODES), label


async def test_the_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["openapi"] == "3.1.0"
    assert response.json() == document()


async def test_the_docs_page_shows_endpoints_schemas_and_error_codes(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            assert f"{method.upper()} {path}</code>" in html
            assert f'id="{operation["operationId"]}"' in html
    for name in document()["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    for code in ERROR_CODES:
        assert f"<code>{code}</code>" in html
    assert "&#34;amount_minor&#34;: 8900" in html  # an example response, escaped
    # No scripts from elsewhere: every script is our own hashed static file.
    assert re.findall(r'<script[^>]*src="(?!/static/)', html) == []
