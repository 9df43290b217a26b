"""OpenID Connect sign-in, the shop's (relying party's) side: discovery, the authorization
request with state, nonce and PKCE (S256), the code exchange and the ID token checks.

Only `OidcClient` talks to the provider; the rules are plain functions of their inputs. Which
account the person gets is `oidc_accounts.py`'s business; the pages are `oidc_routes.py`.

Authlib supplies the OAuth pieces (tokens, the S256 challenge, the request URI, the ID token
claim rules) and joserfc, the JOSE library Authlib itself now builds on, checks signatures.
Authlib 1.9's httpx integration and `authlib.jose` both warn on import that they are
deprecated, so the few HTTP calls are made with httpx directly (docs/oidc.md).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.datastructures import Secret

from app.settings import Settings

log = logging.getLogger("edgecart.oidc")

# Only public-key signatures: a shared-secret (HS*) ID token proves nothing about the provider.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
PENDING_SECONDS = 600  # a sign-in not finished within 10 minutes starts again
CLOCK_LEEWAY_SECONDS = 60
CACHE_SECONDS = 3600  # discovery document and signing keys
HTTP_TIMEOUT_SECONDS = 10.0


class OidcError(Exception):
    """A sign-in that cannot go on; `message` is safe to show, `code` is for logs and tests."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: Secret
    redirect_uri: str
    scopes: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderConfig:
        return cls(
            name=settings.oidc_provider,
            label=settings.oidc_display_name,
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            redirect_uri=settings.oidc_redirect_uri,
            scopes=settings.oidc_scopes,
        )


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    id_token_algorithms: tuple[str, ...]


@dataclass(frozen=True)
class PendingSignin:
    """What the visitor's session keeps between "Continue with …" and the callback."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    next_path: str
    started: float

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str | None) -> PendingSignin | None:
        try:
            return cls(**json.loads(raw)) if raw else None
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says the person is."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


def _unverifiable(detail: str) -> OidcError:
    log.warning("oidc: %s", detail)
    return OidcError(
        "bad_response",
        "The provider's answer could not be verified, so you are not signed in.",
    )


def parse_metadata(document: Mapping[str, Any], issuer: str) -> ProviderMetadata:
    """The discovery document's endpoints; its `issuer` must be exactly the configured one
    (OpenID Connect Discovery 1.0, section 4.3)."""
    if document.get("issuer") != issuer:
        raise _unverifiable(f"discovery names issuer {document.get('issuer')!r}, not {issuer!r}")
    try:
        algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        return ProviderMetadata(
            issuer=issuer,
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
            userinfo_endpoint=document.get("userinfo_endpoint"),
            id_token_algorithms=tuple(a for a in algorithms if a in SIGNING_ALGORITHMS),
        )
    except KeyError as missing:
        raise _unverifiable(f"discovery document lacks {missing}") from None


def begin_signin(
    config: ProviderConfig, metadata: ProviderMetadata, next_path: str, now: float
) -> tuple[str, PendingSignin]:
    """The provider's authorization URL, and what to keep until the person comes back."""
    pending = PendingSignin(
        provider=config.name,
        state=generate_token(32),
        nonce=generate_token(32),
        code_verifier=generate_token(64),  # RFC 7636: 43 to 128 unreserved characters
        next_path=next_path,
        started=now,
    )
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        config.client_id,
        "code",
        redirect_uri=config.redirect_uri,
        scope=config.scopes,
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier),
        code_challenge_method="S256",
    )
    return str(url), pending


def check_callback(
    params: Mapping[str, str],
    pending: PendingSignin | None,
    config: ProviderConfig,
    now: float,
) -> str:
    """The authorization code, once the callback is known to answer our own request."""
    expired = pending is None or now > pending.started + PENDING_SECONDS
    if pending is None or expired or pending.provider != config.name:
        raise OidcError(
            "no_pending_signin",
            "This sign-in has expired or was already used, so you are not signed in.",
        )
    if not hmac.compare_digest(params.get("state", ""), pending.state):
        log.warning("oidc: callback with a state that does not match the session's")
        raise OidcError(
            "state_mismatch",
            "This sign-in did not come back the way it was sent (its state does not match), "
            "so you are not signed in.",
        )
    # RFC 9207: a provider that names itself must name the one we sent the person to.
    if "iss" in params and params["iss"] != config.issuer:
        raise _unverifiable(f"callback names issuer {params['iss']!r}")
    error = params.get("error")
    if error == "access_denied":
        raise OidcError(
            "access_denied",
            f"Signing in with {config.label} was cancelled, so you are not signed in.",
        )
    if error:
        log.warning("oidc: provider answered %s: %s", error, params.get("error_description"))
        raise OidcError("provider_error", f"{config.label} could not sign you in ({error[:40]}).")
    code = params.get("code", "")
    if not code:
        raise _unverifiable("callback without a code")
    return code


def validate_id_token(
    id_token: str,
    keys: KeySet,
    config: ProviderConfig,
    metadata: ProviderMetadata,
    nonce: str,
    now: int | None = None,
) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, expiry and nonce check out."""
    if not metadata.id_token_algorithms:
        raise _unverifiable("the provider offers no public-key ID token signatures")
    try:
        token = jwt.decode(id_token, keys, algorithms=metadata.id_token_algorithms)
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": metadata.issuer},
                "aud": {"essential": True, "value": config.client_id},
                "sub": {"essential": True},
            },
            params={"nonce": nonce, "client_id": config.client_id},
        )
        claims.validate(now=now, leeway=CLOCK_LEEWAY_SECONDS)
    except (JoseError, ValueError) as error:
        raise _unverifiable(f"ID token refused: {error!r}") from None
    return dict(claims)


def identity_from(
    provider: str, claims: Mapping[str, Any], userinfo: Mapping[str, Any] | None
) -> ProviderIdentity:
    """Claims from the ID token, completed from the UserInfo answer when the token lacks them
    (OpenID Connect Core 5.3.2: UserInfo is believed only for the same `sub`)."""
    merged = dict(claims)
    if userinfo is not None:
        if userinfo.get("sub") != claims["sub"]:
            raise _unverifiable("UserInfo answered for another subject")
        merged = {**userinfo, **claims}
    email = merged.get("email")
    verified = merged.get("email_verified")
    return ProviderIdentity(
        provider=provider,
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) and email else None,
        # Some providers send the JSON string "true" instead of the boolean.
        email_verified=verified is True or verified == "true",
        name=str(merged.get("name") or "")[:120],
    )


class OidcClient:
    """One provider: discovery and signing keys are fetched when needed and kept for
    `cache_seconds` in this process."""

    def __init__(self, config: ProviderConfig, cache_seconds: float = CACHE_SECONDS) -> None:
        self.config = config
        self.cache_seconds = cache_seconds
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    async def start(self, next_path: str) -> tuple[str, PendingSignin]:
        return begin_signin(self.config, await self.metadata(), next_path, time.time())

    async def finish(
        self, params: Mapping[str, str], pending: PendingSignin | None
    ) -> ProviderIdentity:
        code = check_callback(params, pending, self.config, time.time())
        assert pending is not None
        metadata = await self.metadata()
        tokens = await self._exchange(metadata, code, pending.code_verifier)
        claims = await self._claims(metadata, str(tokens.get("id_token", "")), pending.nonce)
        userinfo = None
        if "email" not in claims and metadata.userinfo_endpoint and tokens.get("access_token"):
            userinfo = await self._get_json(
                metadata.userinfo_endpoint, bearer=str(tokens["access_token"])
            )
        return identity_from(self.config.name, claims, userinfo)

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is None or time.monotonic() > self._metadata[0]:
            document = await self._get_json(
                f"{self.config.issuer}/.well-known/openid-configuration"
            )
            metadata = parse_metadata(document, self.config.issuer)
            self._metadata = (time.monotonic() + self.cache_seconds, metadata)
        return self._metadata[1]

    async def keys(self, metadata: ProviderMetadata, *, fresh: bool = False) -> KeySet:
        if fresh or self._keys is None or time.monotonic() > self._keys[0]:
            document = await self._get_json(metadata.jwks_uri)
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as error:
                raise _unverifiable(f"unusable signing keys: {error!r}") from None
            self._keys = (time.monotonic() + self.cache_seconds, keys)
        return self._keys[1]

    async def _claims(
        self, metadata: ProviderMetadata, id_token: str, nonce: str
    ) -> dict[str, Any]:
        keys = await self.keys(metadata)
        try:
            return validate_id_token(id_token, keys, self.config, metadata, nonce)
        except OidcError:
            # The provider may have rotated its keys since they were cached: fetch once more.
            keys = await self.keys(metadata, fresh=True)
            return validate_id_token(id_token, keys, self.config, metadata, nonce)

    async def _exchange(
        self, metadata: ProviderMetadata, code: str, code_verifier: str
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "code_verifier": code_verifier,
        }
        auth = (self.config.client_id, str(self.config.client_secret))  # client_secret_basic
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
                response = await http.post(
                    metadata.token_endpoint,
                    data=form,
                    auth=auth,
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        if response.status_code != 200:
            status, text = response.status_code, response.text[:200]
            raise _unverifiable(f"token endpoint answered {status}: {text}")
        return self._json_object(response)

    async def _get_json(self, url: str, bearer: str | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
                response = await http.get(url, headers=headers)
                response.raise_for_status()
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        return self._json_object(response)

    @staticmethod
    def _json_object(response: httpx.Response) -> dict[str, Any]:
        try:
            found = response.json()
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise _unverifiable(f"{response.url} did not answer with a JSON object")
        return found

    def _unreachable(self, error: Exception) -> OidcError:
        log.warning("oidc: %s unreachable: %r", self.config.issuer, error)
        return OidcError(
            "unreachable",
            f"We could not reach {self.config.label} just now. Please try again in a minute.",
        )
