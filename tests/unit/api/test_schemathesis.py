"""Schemathesis checks every /api/v1 operation in-process against the seeded catalog.

It runs through schemathesis's Python API in plain tests rather than its pytest plugin, so the
harness's rules (warnings are errors, one database per test) apply unchanged. The app is served
by schemathesis's own ASGI client, which runs the lifespan on its event-loop thread; the fixture
stops it again before the harness drops the test's database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.ext.asyncio import create_async_engine

from app.accounts.oauth_tokens import mint_access_token
from app.accounts.signing_keys import current_signing_key
from app.db import create_sessionmaker, transaction
from app.main import create_starlette
from app.settings import Settings
from tests.conftest import SEEDED_PRODUCTS
from tests.factories.catalog import make_product
from tests.factories.db import session_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25
OPERATIONS = {
    "GET /api/v1/products",
    "GET /api/v1/products/{id_or_slug}",
    "GET /api/v1/products/{id_or_slug}/variants",
    "GET /api/v1/categories",
    "GET /api/v1/search",
    "GET /api/v1/me",
    "POST /api/v1/carts",
    "GET /api/v1/carts/{token}",
    "POST /api/v1/carts/{token}/lines",
    "PATCH /api/v1/carts/{token}/lines/{variant_id}",
    "DELETE /api/v1/carts/{token}/lines/{variant_id}",
    "POST /api/v1/orders",
    "GET /api/v1/orders",
    "GET /api/v1/orders/{number}",
}
# Carts and orders are fuzzed with a token that may use them, so the requests reach the
# handlers' own checks; the catalog, search and /api/v1/me go without one.
ORDER_SCOPES = ["orders:read", "orders:write"]


@pytest.fixture
def schema(settings: Settings) -> Iterator[OpenApiSchema]:
    # Every fuzzed request with a token counts against its client: more than the default 600.
    app = create_starlette(replace(settings, api_limit_per_client="100000/60"))
    try:
        yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    finally:
        # Closes the app's engine and Redis client before the harness drops the database.
        asgi.shutdown_lifespans()


async def _mint_token(settings: Settings) -> str:
    async with session_for(settings.database_url) as session:
        key = await current_signing_key(session, str(settings.secret_key), "ES256")
    return mint_access_token(key, issuer=settings.site_url, client_id="fuzzing-channel",
                             account_id=None, scopes=ORDER_SCOPES, lifetime=600)  # fmt: skip


@pytest.fixture
def order_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {asyncio.run(_mint_token(settings))}"}


def _needs_orders_token(operation: schemathesis.APIOperation) -> bool:
    security = operation.definition.raw.get("security", [])
    return any(set(entry.get("oauth2", [])) & set(ORDER_SCOPES) for entry in security)


def _fuzz(
    operation: schemathesis.APIOperation, mode: GenerationMode, headers: dict[str, str]
) -> int:
    """Send up to EXAMPLES_PER_OPERATION generated requests; return how many were sent."""
    sent = []

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,  # the same cases on every run, so a failure reproduces
        database=None,  # no example database: derandomized runs replay the same cases anyway
        deadline=None,  # each case is a real request to a real PostgreSQL
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        sent.append(case)
        case.call_and_validate(checks=CHECKS, headers=headers)

    run()
    return len(sent)


def test_fuzzed_requests_get_documented_answers(
    schema: OpenApiSchema, order_headers: dict[str, str]
) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == OPERATIONS

    sent, expected = {}, {}
    for operation in operations:
        headers = order_headers if _needs_orders_token(operation) else {}
        sent[operation.label, "valid"] = _fuzz(operation, GenerationMode.POSITIVE, headers)
        # An operation without any parameter (/api/v1/me, sent without a token) has just one
        # request to make.
        has_parameters = operation.body or any(
            group.items for group in (operation.path_parameters, operation.query, operation.headers)
        )
        expected[operation.label, "valid"] = 10 if has_parameters else 1
        # Invalid requests need a path or query parameter to break; a bare optional header
        # (If-None-Match) has no invalid string, so negative generation would find nothing.
        if operation.path_parameters.items or operation.query.items or operation.body:
            sent[operation.label, "invalid"] = _fuzz(operation, GenerationMode.NEGATIVE, headers)
            expected[operation.label, "invalid"] = 10

    # The fuzzing really happened.
    assert all(count >= expected[key] for key, count in sent.items()), sent


async def _add_product_without_variants(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return (await make_product(session, title="Bare Thing", stock=())).id
    finally:
        await engine.dispose()


def test_every_real_product_and_category_matches_the_document(
    schema: OpenApiSchema, database_url: str
) -> None:
    # Random path segments almost never name a product, so walk the real ones too, plus a
    # product with no variants or images, whose prices are null.
    bare = asyncio.run(_add_product_without_variants(database_url))
    product = schema["/api/v1/products/{id_or_slug}"]["GET"]
    variants = schema["/api/v1/products/{id_or_slug}/variants"]["GET"]
    listing = schema["/api/v1/products"]["GET"]

    for key in [*range(1, SEEDED_PRODUCTS + 1), bare]:
        for operation in (product, variants):
            response = operation.Case(path_parameters={"id_or_slug": str(key)}).call()
            assert response.status_code == 200, (key, response.text)
            operation.Case(path_parameters={"id_or_slug": str(key)}).validate_response(
                response, checks=CHECKS
            )
    for sort in ("newest", "price_asc", "price_desc", "title"):
        listing.Case(query={"sort": sort, "limit": 100}).call_and_validate(checks=CHECKS)
    tree = schema["/api/v1/categories"]["GET"].Case().call_and_validate(checks=CHECKS)
    for department in tree.json()["items"]:
        for category in [department, *department["children"]]:
            listing.Case(query={"category": category["slug"]}).call_and_validate(checks=CHECKS)


async def _add_product_in_stock(database_url: str) -> int:
    async with session_for(database_url) as session:
        return (await make_product(session, title="Stocked Thing", stock=(5,))).variant_ids[0]


def test_a_real_cart_and_order_match_the_document(
    schema: OpenApiSchema, database_url: str, order_headers: dict[str, str]
) -> None:
    # Fuzzed tokens and numbers never name a cart or an order: walk a real one.
    variant_id = asyncio.run(_add_product_in_stock(database_url))
    create = schema["/api/v1/carts"]["POST"].Case()
    cart = create.call_and_validate(checks=CHECKS, headers=order_headers).json()
    path = {"token": cart["token"]}
    schema["/api/v1/carts/{token}/lines"]["POST"].Case(
        path_parameters=path, body={"variant_id": variant_id, "quantity": 2}
    ).call_and_validate(checks=CHECKS, headers=order_headers)
    schema["/api/v1/carts/{token}"]["GET"].Case(path_parameters=path).call_and_validate(
        checks=CHECKS, headers=order_headers
    )
    line = schema["/api/v1/carts/{token}/lines/{variant_id}"]
    line_path = {**path, "variant_id": variant_id}
    for quantity in (3, 50):  # changed; refused as more than in stock (409)
        line["PATCH"].Case(
            path_parameters=line_path, body={"quantity": quantity}
        ).call_and_validate(checks=CHECKS, headers=order_headers)
    other = asyncio.run(_add_product_in_stock(database_url))
    schema["/api/v1/carts/{token}/lines"]["POST"].Case(
        path_parameters=path, body={"variant_id": other, "quantity": 1}
    ).call_and_validate(checks=CHECKS, headers=order_headers)
    for _ in range(2):  # removed; then not in the cart (404)
        line["DELETE"].Case(path_parameters={**path, "variant_id": other}).call_and_validate(
            checks=CHECKS, headers=order_headers
        )
    address = {"full_name": "Ada Lovelace", "line1": "Hauptstr. 1", "postal_code": "10115",
               "city": "Berlin", "country": "DE"}  # fmt: skip
    body = {"cart_token": cart["token"], "email": "fuzz@example.com",
            "shipping_method": "express", "shipping_address": address,
            "voucher_code": "NO-SUCH-CODE"}  # fmt: skip
    refused = schema["/api/v1/orders"]["POST"].Case(
        body=body, headers={"Idempotency-Key": "schemathesis-real-order-0"}
    )
    assert refused.call_and_validate(checks=CHECKS, headers=order_headers).status_code == 422
    place = schema["/api/v1/orders"]["POST"].Case(
        body={**body, "voucher_code": None},
        headers={"Idempotency-Key": "schemathesis-real-order-1"},
    )
    placed = place.call_and_validate(checks=CHECKS, headers=order_headers)
    assert placed.status_code == 201, placed.text
    assert place.call_and_validate(checks=CHECKS, headers=order_headers).status_code == 200
    reused = schema["/api/v1/orders"]["POST"].Case(
        body={**body, "voucher_code": None, "email": "other@example.com"},
        headers={"Idempotency-Key": "schemathesis-real-order-1"},
    )
    assert reused.call_and_validate(checks=CHECKS, headers=order_headers).status_code == 422
    listed = (
        schema["/api/v1/orders"]["GET"]
        .Case()
        .call_and_validate(checks=CHECKS, headers=order_headers)
    )
    assert listed.json()["total"] == 1
    schema["/api/v1/orders/{number}"]["GET"].Case(
        path_parameters={"number": placed.json()["number"]}
    ).call_and_validate(checks=CHECKS, headers=order_headers)
