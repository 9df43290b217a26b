"""The OpenAPI operations of carts and orders (`app/cart/api.py`, `app/orders/api.py`), merged
into the one document by `app/catalog/openapi.py`. Every status listed is one the handlers
really answer; request bodies state exactly what they accept.
"""

from __future__ import annotations

from app.accounts.addresses import ADDRESS_FIELDS
from app.cart import api as cart_api
from app.cart.service import MAX_QUANTITY
from app.checkout.pricing import SHIPPING_METHODS
from app.orders import api as order_api
from app.web.api import DEFAULT_LIMIT, MAX_LIMIT
from app.web.openapi import (
    JSON,
    SECURITY_SCHEME,
    Schemas,
    error_response,
    json_content,
    token_responses,
)
from app.web.params import MAX_PAGE

_PRIVATE: JSON = {
    "Cache-Control": {"description": "Always `private, no-store`.", "schema": {"type": "string"}}
}
_LOCATION: JSON = {"Location": {"description": "The new resource.", "schema": {"type": "string"}}}
_CART_TOKEN: JSON = {
    "name": "token",
    "in": "path",
    "required": True,
    "description": "The cart's token, as `POST /api/v1/carts` answered it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
}
_VARIANT_ID: JSON = {
    "name": "variant_id",
    "in": "path",
    "required": True,
    "description": "The line's variant (`variant_id` of the line): a cart has one line per "
    "variant.",
    "schema": {"type": "integer", "minimum": 1, "maximum": cart_api.MAX_VARIANT_ID},
}
_NUMBER: JSON = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "An order number, e.g. EC-100001.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 40},
}
_IDEMPOTENCY_KEY: JSON = {
    "name": order_api.IDEMPOTENCY_KEY,
    "in": "header",
    "required": True,
    "description": "A key the app makes for this order (16 to 64 visible ASCII characters, e.g. "
    "a UUID). Sending the same key with the same body again returns the order it placed (200) "
    "and places nothing; with a different body it is refused (422 `idempotency_key_reused`).",
    "schema": {"type": "string", "pattern": order_api.KEY_PATTERN},
}
_PAGING = [
    {"name": "page", "in": "query", "description": "Page number, from 1.",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
    {"name": "limit", "in": "query", "description": "Orders per page.",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
]  # fmt: skip

_NEW_LINE: JSON = {
    "type": "object",
    "properties": {
        "variant_id": {"type": "integer", "minimum": 1, "maximum": cart_api.MAX_VARIANT_ID},
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
    },
    "required": ["variant_id", "quantity"],
    "example": {"variant_id": 12, "quantity": 2},
}
_LINE_QUANTITY: JSON = {
    "type": "object",
    "properties": {
        "quantity": {"type": "integer", "minimum": 0, "maximum": MAX_QUANTITY,
                     "description": "The line's new quantity; 0 removes the line."},
    },
    "required": ["quantity"],
    "example": {"quantity": 3},
}  # fmt: skip
_ADDRESS: JSON = {
    "type": "object",
    "description": "Checked as the checkout page checks it (postal code per country; `region` "
    "is the state for US addresses). `line2`, `region` and `phone` may be left out.",
    "properties": {
        name: {"type": "string", "maxLength": order_api.ADDRESS_FIELD_MAX}
        for name in ADDRESS_FIELDS
    },
    "required": ["full_name", "line1", "postal_code", "city", "country"],
}
_NEW_ORDER: JSON = {
    "type": "object",
    "properties": {
        "cart_token": {"type": "string", "minLength": 1, "maxLength": 64},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "shipping_address": _ADDRESS,
        "shipping_method": {"type": "string", "enum": list(SHIPPING_METHODS)},
        "voucher_code": {
            "type": ["string", "null"], "minLength": 1, "maxLength": order_api.VOUCHER_CODE_MAX,
            "description": "A voucher to apply, as the shopper typed it (spaces and case do not "
            "matter); null or left out for none. Checked by the checkout's rules; each reason "
            "for a refusal is its own `voucher_…` code.",
        },
    },
    "required": ["cart_token", "email", "shipping_address", "shipping_method"],
    "example": {
        "cart_token": "6bq0y0kq7Yx3oT1v2m5-9aB8cD4eF6gH",
        "email": "ada@example.com",
        "shipping_address": {"full_name": "Ada Lovelace", "line1": "Hauptstr. 1",
                             "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "shipping_method": "standard",
        "voucher_code": "SPRING10",
    },
}  # fmt: skip

_LINE_EXAMPLE = {
    "variant_id": 12,
    "sku": "LIN-SHIRT-M",
    "product_title": "Linen Shirt",
    "variant_title": "M",
    "quantity": 2,
    "unit_price_minor": 4500,
    "total_minor": 9000,
    "available": 7,
    "note": None,
    "problem": None,
}
_ORDER_LINE_EXAMPLE = {
    "variant_id": 12,
    "sku": "LIN-SHIRT-M",
    "product_title": "Linen Shirt",
    "variant_title": "M",
    "quantity": 2,
    "unit_price_minor": 4500,
    "discount_minor": 900,
    "tax_minor": 1293,
    "total_minor": 8100,
    "unit_weight_grams": 320,
}
EXAMPLES: JSON = {
    "ApiCart": {"token": "6bq0y0kq7Yx3oT1v2m5-9aB8cD4eF6gH", "lines": [_LINE_EXAMPLE],
                "subtotal_minor": 9000, "currency": "EUR", "ready_for_checkout": True,
                "removed_variant_ids": []},
    "ApiOrder": {"number": "EC-100001", "status": "pending_payment",
                 "created_at": "2026-11-27T08:10:00+00:00", "email": "ada@example.com",
                 "currency": "EUR", "subtotal_minor": 9000, "shipping_minor": 0,
                 "discount_minor": 900, "voucher_code": "SPRING10", "tax_minor": 1293,
                 "total_minor": 8100,
                 "prices_include_tax": True, "shipping_address": {
                     "full_name": "Ada Lovelace", "line1": "Hauptstr. 1", "line2": "",
                     "postal_code": "10115", "city": "Berlin", "region": "", "country": "DE",
                     "phone": ""},
                 "shipping_method": "standard", "shipping_method_name": "Standard delivery",
                 "reserved_until": "2026-11-27T08:40:00+00:00", "lines": [_ORDER_LINE_EXAMPLE]},
    "ApiOrderList": {"items": [{"number": "EC-100001", "status": "pending_payment",
                                "created_at": "2026-11-27T08:10:00+00:00", "currency": "EUR",
                                "total_minor": 8100, "url": "/api/v1/orders/EC-100001"}],
                     "page": 1, "limit": 24, "total": 1, "next": None},
}  # fmt: skip

_NOT_JSON = error_response("The body must be a JSON object.", "bad_request")
_NO_CART = error_response("No such cart.", "not_found")
_NO_LINE = error_response("That item is not in your cart any more.", "line_not_found", "not_found")
_ORDER_REFUSED = error_response(
    "The code SPRING10 needs a spend of at least €50.00.",
    *[f"voucher_{reason}" for reason in order_api.VOUCHER_REASONS],
    "invalid_field", "idempotency_key_reused",
)  # fmt: skip


def _operation(method: str, operation_id: str, summary: str, description: str, scope: str,
               responses: JSON, parameters: list[JSON] | None = None,
               body: JSON | None = None) -> JSON:  # fmt: skip
    operation: JSON = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["orders"],
        "parameters": parameters or [],
        "security": [{SECURITY_SCHEME: [scope]}],
        "responses": {**responses, **token_responses(scope, required=True)},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": json_content(body)}
    return {method: operation}


def paths(s: Schemas) -> JSON:
    """The cart and order operations, their schemas collected in `s`."""

    def ok(cls: type, description: str, headers: JSON | None = None) -> JSON:
        return {"description": description, "headers": {**_PRIVATE, **(headers or {})},
                "content": json_content(s.ref(cls), EXAMPLES[cls.__name__])}  # fmt: skip

    write, read = cart_api.SCOPE, order_api.READ_SCOPE
    cart = {"200": ok(cart_api.ApiCart, "The cart."), "404": _NO_CART}
    order = ok(order_api.ApiOrder, "The order.")
    return {
        "/api/v1/carts": _operation(
            "post", "createCart", "Create a cart",
            "A new empty cart of this client. Keep its token: it is the only way back to it.",
            write, {"201": ok(cart_api.ApiCart, "The new cart.", _LOCATION)},
        ),
        "/api/v1/carts/{token}": _operation(
            "get", "getCart", "Get a cart",
            "The cart at today's prices and stock; `note` says what changed for a line. "
            "Another client's cart is 404.",
            write, cart, [_CART_TOKEN],
        ),
        "/api/v1/carts/{token}/lines": _operation(
            "post", "addCartLine", "Add units of a variant",
            "Adds to the line of that variant if there is one. Refused when the variant is "
            "unknown (422), sold out or short of the total asked for (409).",
            write,
            {**cart, "400": _NOT_JSON,
             "409": error_response("Sorry, this is sold out.", "sold_out", "not_enough"),
             "422": error_response("quantity must be a whole number from 1 to 99",
                                   "invalid_field", "unknown_variant")},
            [_CART_TOKEN], _NEW_LINE,
        ),
        "/api/v1/carts/{token}/lines/{variant_id}": {
            **_operation(
                "patch", "updateCartLine", "Change a line's quantity",
                "Sets the quantity of the variant's line (not adds to it); 0 removes the line. "
                "Refused when the line is not in the cart (404), when the quantity is more than "
                "can be had now (409: `available` of the line says how many can) or the "
                "product is no longer sold (422). On a refusal the cart is unchanged.",
                write,
                {**cart, "404": _NO_LINE, "400": _NOT_JSON,
                 "409": error_response("Only 2 available.", "not_enough", "sold_out"),
                 "422": error_response("quantity must be a whole number from 0 to 99",
                                       "invalid_field", "unknown_variant")},
                [_CART_TOKEN, _VARIANT_ID], _LINE_QUANTITY,
            ),
            **_operation(
                "delete", "removeCartLine", "Remove a line",
                "Takes the variant's line out of the cart and answers with the cart. A line "
                "that is not in the cart (removed already) is 404 `line_not_found`.",
                write, {**cart, "404": _NO_LINE}, [_CART_TOKEN, _VARIANT_ID],
            ),
        },
        "/api/v1/orders": {
            **_operation(
                "post", "placeOrder", "Place an order",
                "Orders the cart's lines for the address and shipping method (priced as at "
                "checkout; payment is pay-later for now), holds the stock and empties the cart. "
                "`voucher_code` applies a voucher by the checkout's rules; `discount_minor` "
                "shows what it took off. Once per `Idempotency-Key`: a replay with the same "
                "body answers 200 with the order already placed; the same key with another "
                "body is 422 `idempotency_key_reused`. Items that cannot be had are 409 "
                "`out_of_stock`, naming each; a cart too heavy for a weight-banded method "
                "(`parcel`) is 409 `shipping_unavailable`; nothing is ordered then. A token "
                "acting for a shopper places the order on their account.",
                write,
                {"201": {**order, "headers": {**_PRIVATE, **_LOCATION}},
                 "200": {**order, "description": "The order this key placed before."},
                 "400": error_response("Idempotency-Key must be 16 to 64 visible ASCII "
                                       "characters", "invalid_parameter", "bad_request"),
                 "404": _NO_CART,
                 "409": error_response("Sorry, Linen Shirt (M) has just sold out: remove it "
                                       "from your cart to order.", "out_of_stock", "empty_cart",
                                       "shipping_unavailable"),
                 "422": _ORDER_REFUSED},
                [_IDEMPOTENCY_KEY], _NEW_ORDER,
            ),
            **_operation(
                "get", "listOrders", "List orders",
                "Newest first. A shopper's token: their account's orders. A client-credentials "
                "token: the orders this client placed with client credentials.",
                read,
                {"200": ok(order_api.ApiOrderList, "A page of orders."),
                 "400": error_response("limit must be a whole number from 1 to 100",
                                       "invalid_parameter")},
                _PAGING,
            ),
        },
        "/api/v1/orders/{number}": _operation(
            "get", "getOrder", "Get an order",
            "One of the caller's orders (as in the list) with its lines; any other is 404.",
            read, {"200": order, "404": error_response("No order 'EC-100001'", "not_found")},
            [_NUMBER],
        ),
    }  # fmt: skip
