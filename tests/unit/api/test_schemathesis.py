"""Schemathesis checks every /api/v1 operation in-process against the seeded catalog.

It runs through schemathesis's Python API in plain tests rather than its pytest plugin, so the
harness's rules (warnings are errors, one database per test) apply unchanged. The app is served
by schemathesis's own ASGI client, which runs the lifespan on its event-loop thread; the fixture
stops it again before the harness drops the test's database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

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

from app.db import create_sessionmaker, transaction
from app.main import create_starlette
from app.settings import Settings
from tests.conftest import SEEDED_PRODUCTS
from tests.factories.catalog import make_product

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
}


@pytest.fixture
def schema(settings: Settings) -> Iterator[OpenApiSchema]:
    app = create_starlette(settings)
    try:
        yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    finally:
        # Closes the app's engine and Redis client before the harness drops the database.
        asgi.shutdown_lifespans()


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode) -> int:
    """Send up to EXAMPLES_PER_OPERATION generated requests; return how many were sent."""
    sent = []

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,  # the same cases on every run, so a failure reproduces
        database=None,  # no example database: derandomized runs replay the same cases anyway
        deadline=None,  # each case is a real request to a real PostgreSQL
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        sent.append(case)
        case.call_and_validate(checks=CHECKS)

    run()
    return len(sent)


def test_fuzzed_requests_get_documented_answers(schema: OpenApiSchema) -> None:
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == OPERATIONS

    sent, expected = {}, {}
    for operation in operations:
        sent[operation.label, "valid"] = _fuzz(operation, GenerationMode.POSITIVE)
        # An operation without any parameter (/api/v1/me, sent without a token) has just one
        # request to make.
        has_parameters = any(
            group.items for group in (operation.path_parameters, operation.query, operation.headers)
        )
        expected[operation.label, "valid"] = 10 if has_parameters else 1
        # Invalid requests need a path or query parameter to break; a bare optional header
        # (If-None-Match) has no invalid string, so negative generation would find nothing.
        if operation.path_parameters.items or operation.query.items:
            sent[operation.label, "invalid"] = _fuzz(operation, GenerationMode.NEGATIVE)
            expected[operation.label, "invalid"] = 10

    # The fuzzing really happened.
    assert all(count >= expected[key] for key, count in sent.items()), sent
    assert time.monotonic() - started < 60


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
