"""OpenAPI 3.1 building blocks: JSON Schemas derived from response dataclasses, shared pieces.

The schemas come from the very dataclasses the handlers serialise, so a field cannot be added,
renamed or made nullable without the document following. Descriptions and constraints live on
the fields: `id: Annotated[int, describe("The product id.", minimum=1)]`.
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass
from typing import (
    Annotated,
    Any,
    Literal,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from app.accounts.oauth_scopes import SCOPES

JSON = dict[str, Any]

# The stable error codes of the whole API, with what each means (also listed in docs/api.md).
ERROR_CODES = {
    "invalid_parameter": "A query parameter is malformed or out of range (400); the message "
    "names it. Unknown parameters are ignored, never an error.",
    "bad_request": "The request could not be understood, e.g. a body that is not a JSON "
    "object (400).",
    "invalid_field": "A field of the JSON body is missing, of the wrong type or breaks a rule "
    "(422); the message starts with its name.",
    "not_found": "No such product, category, cart, order or URL (404). Another client's cart "
    "and another account's order are not found either.",
    "method_not_allowed": "The method is not answered at this URL (405).",
    "unknown_variant": "The variant does not exist or is no longer sold (422).",
    "sold_out": "The variant is sold out (409).",
    "not_enough": "Fewer units are available than the cart would hold (409); the message says "
    "how many.",
    "empty_cart": "An order needs a cart with at least one line (409).",
    "line_not_found": "The cart has no line of that variant (404).",
    "out_of_stock": "Items of the cart cannot be had in the quantity asked for (409); the "
    "message names each one. Nothing was ordered.",
    "idempotency_key_reused": "The Idempotency-Key already placed an order with a different "
    "request body (422). Nothing was ordered: use a new key for a new order.",
    "voucher_unknown": "No voucher has that code (422).",
    "voucher_inactive": "The voucher was withdrawn (422).",
    "voucher_expired": "The voucher has expired (422).",
    "voucher_not_yet_valid": "The voucher cannot be used yet; the message says from when (422).",
    "voucher_used_up": "The voucher has been used as often as it may be (422).",
    "voucher_currency": "The voucher is for another currency than the cart's (422).",
    "voucher_min_spend": "The cart's subtotal is below the voucher's minimum spend; the message "
    "says how much is needed (422).",
    "shipping_unavailable": "The shipping method cannot take the cart, e.g. a parcel heavier "
    "than its last weight band (409); the message says why. Nothing was ordered.",
    "rate_limited": "Too many requests; wait `Retry-After` seconds and retry (429). With an "
    "access token, the limit counts every request of the token's client.",
    "missing_token": "The endpoint needs an access token and none was sent (401).",
    "invalid_token": "The access token is malformed, expired, revoked or not signed by this "
    "shop (401). Get a new one from /oauth/token.",
    "insufficient_scope": "The access token lacks the scope the endpoint needs, or acts for a "
    "client where a person is needed (403).",
    "internal_error": "Something broke on our side (500); the message carries a reference.",
}

ERROR_SCHEMA: JSON = {
    "type": "object",
    "description": "Every error: a stable machine-readable code and a message safe to show.",
    "properties": {
        "code": {"type": "string", "enum": list(ERROR_CODES)},
        "message": {"type": "string"},
    },
    "required": ["code", "message"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Described:
    schema: JSON


def describe(description: str, **constraints: Any) -> Described:
    """`Annotated` metadata: a field's OpenAPI description and JSON Schema constraints."""
    return Described({"description": description, **constraints})


class Schemas:
    """Collects `components.schemas`: one named schema per dataclass, referenced by `$ref`."""

    def __init__(self) -> None:
        self.components: dict[str, JSON] = {}

    def ref(self, cls: type) -> JSON:
        name = cls.__name__
        if name not in self.components:
            self.components[name] = {}  # a placeholder first, so recursive types terminate
            self.components[name] = self._object(cls)
        return {"$ref": f"#/components/schemas/{name}"}

    def _object(self, cls: type) -> JSON:
        hints = get_type_hints(cls, include_extras=True)
        properties = {}
        for f in dataclasses.fields(cls):
            properties[f.name] = self.of(hints[f.name])
        schema: JSON = {"type": "object"}
        doc = cls.__doc__ or ""
        if not doc.startswith(cls.__name__ + "("):  # dataclass's generated signature
            schema["description"] = " ".join(doc.split())
        schema["properties"] = properties
        schema["required"] = list(properties)
        schema["additionalProperties"] = False
        return schema

    def of(self, hint: Any) -> JSON:
        """The JSON Schema of a type annotation."""
        origin, args = get_origin(hint), get_args(hint)
        if origin is Annotated:
            extra = [a.schema for a in hint.__metadata__ if isinstance(a, Described)]
            return {**self.of(args[0]), **{k: v for e in extra for k, v in e.items()}}
        if hint is Any:
            return {}
        simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
        if hint in simple:
            return {"type": simple[hint]}
        if origin in (Union, types.UnionType):
            present = [arg for arg in args if arg is not type(None)]
            inner = self.of(present[0]) if len(present) == 1 else {"anyOf": self._all(present)}
            if len(present) == len(args):
                return inner
            if isinstance(inner.get("type"), str):
                return {**inner, "type": [inner["type"], "null"]}
            return {"anyOf": [inner, {"type": "null"}]}
        if origin is list:
            return {"type": "array", "items": self.of(args[0])}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.of(args[1])}
        if origin is Literal:
            return {"type": "string", "enum": list(args)}
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            return self.ref(hint)
        raise TypeError(f"no JSON Schema for {hint!r}")

    def _all(self, hints: list[Any]) -> list[JSON]:
        return [self.of(hint) for hint in hints]


def json_content(schema: JSON, example: Any = None) -> JSON:
    content: JSON = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"application/json": content}


def error_response(description: str, *codes: str) -> JSON:
    """An error response whose `code` is one of `codes`."""
    schema: JSON = {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {"properties": {"code": {"enum": list(codes)}}},
        ]
    }
    example = {"code": codes[0], "message": description}
    return {"description": description, "content": json_content(schema, example)}


# --- OAuth 2.0 (docs/oauth.md) ------------------------------------------------------------------

SECURITY_SCHEME = "oauth2"


def oauth2_scheme() -> JSON:
    """The authorization server's flows (URLs relative to the server, as the document's are)."""
    return {
        "type": "oauth2",
        "description": "Access tokens from /oauth/token, sent as `Authorization: Bearer <token>`. "
        "Partner servers use client credentials; apps acting for a shopper use the "
        "authorization code flow with PKCE (S256). Tokens are JWTs signed with the keys at "
        "/.well-known/jwks.json and last 10 minutes by default.",
        "flows": {
            "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": dict(SCOPES)},
            "authorizationCode": {
                "authorizationUrl": "/oauth/authorize",
                "tokenUrl": "/oauth/token",
                "refreshUrl": "/oauth/token",
                "scopes": dict(SCOPES),
            },
        },
    }


_CHALLENGE: JSON = {
    "WWW-Authenticate": {
        "description": "The Bearer challenge of RFC 6750, with `error` when a token was sent.",
        "schema": {"type": "string"},
    }
}


def token_responses(scope: str, *, required: bool) -> JSON:
    """401/403/429 of an endpoint that takes (or needs) an access token with `scope`."""
    if required:
        unauthorised = error_response(
            "No access token, or one that is not valid.", "missing_token", "invalid_token"
        )
    else:
        unauthorised = error_response("The access token has expired.", "invalid_token")
    forbidden = error_response(f"This needs a token with the {scope} scope.", "insufficient_scope")
    limited = error_response("Too many requests for this client: retry in 12 s.", "rate_limited")
    limited["headers"] = {
        "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
    }
    return {
        "401": {**unauthorised, "headers": _CHALLENGE},
        "403": {**forbidden, "headers": _CHALLENGE},
        "429": limited,
    }
