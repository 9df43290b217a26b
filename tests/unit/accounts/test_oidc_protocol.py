"""The OpenID Connect rules that need no provider: the callback checks and the ID token checks."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from starlette.datastructures import Secret

from app.accounts.oidc import (
    OidcError,
    PendingSignin,
    ProviderConfig,
    ProviderMetadata,
    begin_signin,
    check_callback,
    identity_from,
    parse_metadata,
    validate_id_token,
)

ISSUER = "https://id.example"
CONFIG = ProviderConfig(
    name="demo",
    label="Demo ID",
    issuer=ISSUER,
    client_id="shop",
    client_secret=Secret("s3cret"),
    redirect_uri="https://shop.example/account/oidc/demo/callback",
    scopes="openid email profile",
)
METADATA = ProviderMetadata(
    issuer=ISSUER,
    authorization_endpoint=f"{ISSUER}/auth",
    token_endpoint=f"{ISSUER}/token",
    jwks_uri=f"{ISSUER}/jwks",
    userinfo_endpoint=f"{ISSUER}/me",
    id_token_algorithms=("RS256",),
)
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
PUBLIC_KEYS = KeySet.import_key_set(KeySet([KEY]).as_dict(private=False))
NOW = 1_800_000_000


def pending(**changes: Any) -> PendingSignin:
    values = {
        "provider": "demo",
        "state": "s" * 43,
        "nonce": "n" * 43,
        "code_verifier": "v" * 64,
        "next_path": "/account",
        "started": NOW,
    }
    return PendingSignin(**{**values, **changes})


def id_token(key: Any = KEY, alg: str = "RS256", **changes: Any) -> str:
    claims = {
        "iss": ISSUER,
        "sub": "sub-1",
        "aud": "shop",
        "iat": NOW,
        "exp": NOW + 300,
        "nonce": "n" * 43,
        **changes,
    }
    return jwt.encode(
        {"alg": alg, "kid": "k1"}, {k: v for k, v in claims.items() if v is not None}, key
    )


def test_the_authorization_url_and_what_the_session_keeps() -> None:
    url, kept = begin_signin(CONFIG, METADATA, "/account/addresses", NOW)

    assert url.startswith(f"{ISSUER}/auth?response_type=code&client_id=shop&")
    assert f"state={kept.state}" in url
    assert f"nonce={kept.nonce}" in url
    assert "code_challenge_method=S256" in url
    assert kept.code_verifier not in url
    assert PendingSignin.loads(kept.dumps()) == kept
    assert begin_signin(CONFIG, METADATA, "", NOW)[1].state != kept.state


@pytest.mark.parametrize(
    ("params", "kept", "code"),
    [
        pytest.param({"code": "c", "state": "x" * 43}, pending(), "state_mismatch", id="tampered"),
        pytest.param({"code": "c"}, pending(), "state_mismatch", id="state-missing"),
        pytest.param({"code": "c", "state": "s" * 43}, None, "no_pending_signin", id="unstarted"),
        pytest.param(
            {"code": "c", "state": "s" * 43},
            pending(started=NOW - 601),
            "no_pending_signin",
            id="expired",
        ),
        pytest.param(
            {"code": "c", "state": "s" * 43},
            pending(provider="other"),
            "no_pending_signin",
            id="other-provider",
        ),
        pytest.param(
            {"error": "access_denied", "state": "s" * 43},
            pending(),
            "access_denied",
            id="cancelled",
        ),
        pytest.param(
            {"error": "server_error", "state": "s" * 43},
            pending(),
            "provider_error",
            id="provider-error",
        ),
        pytest.param(
            {"code": "c", "state": "s" * 43, "iss": "https://evil.example"},
            pending(),
            "bad_response",
            id="mixed-up-issuer",
        ),
        pytest.param({"state": "s" * 43}, pending(), "bad_response", id="no-code"),
    ],
)
def test_a_callback_that_does_not_answer_our_request_is_refused(
    params: dict[str, str], kept: PendingSignin | None, code: str
) -> None:
    with pytest.raises(OidcError) as refused:
        check_callback(params, kept, CONFIG, NOW)

    assert refused.value.code == code


def test_a_callback_answering_our_request_gives_its_code() -> None:
    params = {"code": "the-code", "state": "s" * 43, "iss": ISSUER}

    assert check_callback(params, pending(), CONFIG, NOW + 10) == "the-code"


def test_a_good_id_token_gives_its_claims() -> None:
    claims = validate_id_token(
        id_token(email="a@example.com"), PUBLIC_KEYS, CONFIG, METADATA, "n" * 43, now=NOW + 1
    )

    assert claims["sub"] == "sub-1"
    assert claims["email"] == "a@example.com"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(id_token(nonce="replayed"), id="other-nonce"),
        pytest.param(id_token(nonce=None), id="no-nonce"),
        pytest.param(id_token(aud="another-shop"), id="other-audience"),
        pytest.param(id_token(iss="https://evil.example"), id="other-issuer"),
        pytest.param(id_token(exp=NOW - 120), id="expired"),
        pytest.param(
            id_token(key=RSAKey.generate_key(2048, parameters={"kid": "k1"})),
            id="signed-by-another-key",
        ),
        pytest.param(id_token(key=OctKey.import_key("x" * 32), alg="HS256"), id="shared-secret"),
        pytest.param(id_token()[:-4] + "AAAA", id="changed-signature"),
        pytest.param("not.a.token", id="garbage"),
    ],
)
def test_a_bad_id_token_is_refused(token: str) -> None:
    with pytest.raises(OidcError) as refused:
        validate_id_token(token, PUBLIC_KEYS, CONFIG, METADATA, "n" * 43, now=NOW + 1)

    assert refused.value.code == "bad_response"


def test_the_discovery_document_must_name_the_configured_issuer() -> None:
    document = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
        "id_token_signing_alg_values_supported": ["HS256", "RS256", "none"],
    }

    assert parse_metadata(document, ISSUER).id_token_algorithms == ("RS256",)
    with pytest.raises(OidcError):
        parse_metadata({**document, "issuer": "https://evil.example"}, ISSUER)
    with pytest.raises(OidcError):
        parse_metadata({k: v for k, v in document.items() if k != "jwks_uri"}, ISSUER)


def test_userinfo_completes_the_id_token_only_for_the_same_person() -> None:
    claims = {"sub": "sub-1", "iss": ISSUER}
    userinfo = {"sub": "sub-1", "email": "a@example.com", "email_verified": "true", "name": "A"}

    identity = identity_from("demo", claims, userinfo)

    assert (identity.subject, identity.email, identity.email_verified) == (
        "sub-1",
        "a@example.com",
        True,
    )
    with pytest.raises(OidcError):
        identity_from("demo", claims, {**userinfo, "sub": "someone-else"})
    assert identity_from("demo", {"sub": "s", "email_verified": 1}, None).email_verified is False
