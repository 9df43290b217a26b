"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json and as /api/v1/docs.

Response schemas are derived from the response dataclasses (`app/catalog/schemas.py`,
`app/search/api.py`); parameters state exactly what the handlers accept, with bounds read from
the same constants. Examples come from `api_examples.py`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.accounts import api as account_api
from app.catalog import api, schemas
from app.catalog import service as catalog
from app.catalog.api_examples import EXAMPLES
from app.orders import openapi as order_document
from app.search import api as search_api
from app.search.models import SORTS as SEARCH_SORTS
from app.search.words import MAX_QUERY_LENGTH
from app.web.api import API_KEY, DEFAULT_LIMIT, MAX_LIMIT, to_jsonable
from app.web.api_docs import docs_context
from app.web.caching import cache_publicly
from app.web.openapi import (
    ERROR_CODES,
    ERROR_SCHEMA,
    JSON,
    SECURITY_SCHEME,
    Schemas,
    error_response,
    json_content,
    oauth2_scheme,
    token_responses,
)
from app.web.params import MAX_PAGE

# --- parameters -------------------------------------------------------------------------------


def _query(name: str, description: str, schema: JSON) -> JSON:
    parameter: JSON = {"name": name, "in": "query", "description": description, "schema": schema}
    if schema.get("type") == "array":
        parameter |= {"style": "form", "explode": True}  # repeated: ?price=a&price=b
    return parameter


_IF_NONE_MATCH: JSON = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An ETag from an earlier response: 304 Not Modified if it still matches.",
    "schema": {"type": "string"},
}
_ID_OR_SLUG: JSON = {
    "name": "id_or_slug",
    "in": "path",
    "required": True,
    "description": "A product id (all digits) or slug.",
    "schema": {"type": "string", "minLength": 1, "maxLength": api.PRODUCT_KEY_MAX},
}
_PAGING = [
    _query(
        "page",
        "Page number, from 1. Past the last page, `items` is empty.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    ),
    _query(
        "limit",
        "Products per page.",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
]


def _category(slug_max: int) -> JSON:
    return _query(
        "category",
        "A category slug: that category and every one below it.",
        {"type": "string", "minLength": 1, "maxLength": slug_max},
    )


_LIST_PARAMETERS = [
    _category(api.CATEGORY_SLUG_MAX),
    *_PAGING,
    _query(
        "sort",
        "newest first, price up or down (lowest variant price), or by title.",
        {"type": "string", "enum": list(catalog.PRODUCT_SORTS), "default": "newest"},
    ),
    _IF_NONE_MATCH,
]
_FACET_VALUES: JSON = {
    "type": "array",
    "maxItems": search_api.MAX_FACET_VALUES,
    "items": {"type": "string", "minLength": 1, "maxLength": search_api.MAX_FACET_VALUE_LENGTH},
}
_SEARCH_PARAMETERS = [
    _query(
        "q",
        "The words to look for; typos are corrected. Empty or absent: browse everything.",
        {"type": "string", "maxLength": MAX_QUERY_LENGTH},
    ),
    _category(search_api.CATEGORY_SLUG_MAX),
    _query(
        "price",
        "Price ranges (a `price` facet value); several are alternatives.",
        {
            "type": "array",
            "maxItems": len(search_api.PRICE_KEYS),
            "items": {"type": "string", "enum": search_api.PRICE_KEYS},
        },
    ),
    *(
        _query(name, f"`{name}` facet values; several are alternatives.", _FACET_VALUES)
        for name in search_api.FACET_PARAMETERS
    ),
    _query(
        "in_stock",
        "Only products that can be bought now (`1` and `on` mean true too, as in page URLs).",
        {"type": "boolean", "default": False},
    ),
    _query(
        "sort",
        "relevance (newest first without words), newest, or price up or down.",
        {"type": "string", "enum": list(SEARCH_SORTS), "default": "relevance"},
    ),
    *_PAGING,
    _IF_NONE_MATCH,
]

# --- responses --------------------------------------------------------------------------------

_CACHE_HEADERS: JSON = {
    "ETag": {"description": "Weak validator of the body.", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "public, with a short max-age and a long s-maxage for the edge.",
        "schema": {"type": "string"},
    },
    "Surrogate-Key": {
        "description": "Space-separated keys (`api`, `product-<id>`, `category-<id>`, "
        "`search`) that purge this response at the edge.",
        "schema": {"type": "string"},
    },
}
_NOT_MODIFIED: JSON = {"description": "Not Modified: the `If-None-Match` ETag still matches."}
_BAD_PARAMETER = error_response("limit must be a whole number from 1 to 100", "invalid_parameter")
_NO_CATEGORY = error_response("No category 'no-such-category'", "not_found")
_NO_PRODUCT = error_response("No product 'no-such-thing'", "not_found")


# Public reads: no token needed; a token that is sent must be valid and hold catalog:read.
_OPTIONAL_TOKEN = [{}, {SECURITY_SCHEME: [api.SCOPE]}]


def _get(operation_id: str, summary: str, description: str, parameters: list[JSON],
         responses: JSON, tag: str = "catalog",
         security: list[JSON] | None = None) -> JSON:  # fmt: skip
    required = security is not None
    scope = security[0][SECURITY_SCHEME][0] if security else api.SCOPE
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": [tag],
            "parameters": parameters,
            "security": security or _OPTIONAL_TOKEN,
            "responses": {**responses, **token_responses(scope, required=required)},
        }
    }


def document() -> JSON:
    """The whole OpenAPI 3.1 document."""
    s = Schemas()

    def answers(cls: type, description: str, errors: JSON | None = None) -> JSON:
        """200 with `cls` (and its example), 304, and the error responses given."""
        content = json_content(s.ref(cls), to_jsonable(EXAMPLES[cls.__name__]))
        success = {"description": description, "headers": _CACHE_HEADERS, "content": content}
        return {"200": success, "304": _NOT_MODIFIED, **(errors or {})}

    bad_list = {"400": _BAD_PARAMETER, "404": _NO_CATEGORY}

    paths = {
        "/api/v1/products": _get(
            "listProducts",
            "List products",
            "Every product, or a category's (subcategories included), a page at a time.",
            _LIST_PARAMETERS,
            answers(schemas.ProductList, "A page of products.", bad_list),
        ),
        "/api/v1/products/{id_or_slug}": _get(
            "getProduct",
            "Get a product",
            "A product with its variants (price, stock), images and category trail.",
            [_ID_OR_SLUG, _IF_NONE_MATCH],
            answers(schemas.Product, "The product.", {"404": _NO_PRODUCT}),
        ),
        "/api/v1/products/{id_or_slug}/variants": _get(
            "listVariants",
            "List a product's variants",
            "SKU, options, price and live stock level of each variant.",
            [_ID_OR_SLUG, _IF_NONE_MATCH],
            answers(schemas.VariantList, "The variants.", {"404": _NO_PRODUCT}),
        ),
        "/api/v1/categories": _get(
            "listCategories",
            "The category tree",
            "Every category, nested under its parent, in display order.",
            [_IF_NONE_MATCH],
            answers(schemas.CategoryTree, "The category tree."),
        ),
        "/api/v1/search": _get(
            "searchProducts",
            "Search products",
            "The search of the /search page: typo-tolerant words, combinable facets with "
            "counts (within a facet values are alternatives; facets narrow each other), "
            "sorting and paging.",
            _SEARCH_PARAMETERS,
            answers(search_api.SearchResults, "Results.", bad_list),
            tag="search",
        ),
        "/api/v1/me": _get(
            "getMe",
            "The token's account",
            "Who an authorization-code access token acts for. Needs the `profile` scope; a "
            "client-credentials token (a partner acting for itself) gets 403. Personal: "
            "`private, no-store`.",
            [],
            {
                "200": {
                    "description": "The account.",
                    "content": json_content(
                        s.ref(account_api.AccountProfile),
                        {"id": 42, "email": "ada@example.com", "name": "Ada Shopper"},
                    ),
                }
            },
            tag="accounts",
            security=[{SECURITY_SCHEME: [account_api.SCOPE]}],
        ),
        **order_document.paths(s),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Edgecart API",
            "version": "1.0.0",
            "summary": "The shop's catalog and search, and carts and orders for sales channels.",
            "description": (
                "The catalog and search are read-only and public: no token needed, and every "
                "such response is cacheable (ETag, 304) and purged at the edge by surrogate key. "
                "Apps registered for OAuth 2.0 send `Authorization: Bearer <token>` (then the "
                "token must be valid and is rate-limited per client) and reach personal "
                "endpoints such as `/api/v1/me`; see /.well-known/oauth-authorization-server. "
                "Carts and orders (`orders:write`, `orders:read`) are personal: never cached. "
                "Money is integer minor "
                "units plus an ISO 4217 currency, with a decimal string beside it. Errors are "
                "`{code, message}` with a stable code; unknown query parameters are ignored. "
                "URLs in bodies are root-relative, except the absolute `canonical_url`."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **s.components},
            "securitySchemes": {SECURITY_SCHEME: oauth2_scheme()},
        },
        "x-error-codes": ERROR_CODES,
    }


async def openapi_json(request: Request) -> Response:
    response = JSONResponse(document())
    return cache_publicly(response, request.app.state.settings, [API_KEY])


async def api_docs(request: Request) -> Response:
    """The same document as a page people can read, on a phone too."""
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "api/docs.html", docs_context(document())
    )
    return cache_publicly(response, request.app.state.settings, [API_KEY])


routes = [
    Route("/api/v1/openapi.json", openapi_json, name="api_openapi"),
    Route("/api/v1/docs", api_docs, name="api_docs"),
]
