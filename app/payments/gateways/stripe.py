"""Stripe through its official SDK: a Checkout Session (mode=payment) on Stripe's hosted page.

The same code talks to real Stripe and to the local simulator (app/paysim): only the API base
address and the keys differ (STRIPE_API_BASE, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET). Calls
go through the SDK's async httpx client with a timeout, so a slow provider never blocks the
event loop, and every call that changes something carries an idempotency key made by the
payments service from our payment id and the operation.
"""

from __future__ import annotations

from typing import Any

import stripe

from app.payments.gateways.base import (
    CaptureMode,
    CheckoutRequest,
    CheckoutStarted,
    GatewayRefused,
    GatewayUnavailable,
    PaymentStatus,
    ProviderState,
    Transaction,
    WebhookEvent,
    WebhookRejected,
)

NAME = "stripe"
SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.expired",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
    }
)
INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.amount_capturable_updated",
        "payment_intent.canceled",
    }
)


class _HttpxClient(stripe.HTTPXClient):
    """The SDK's async httpx client, handing the encoded form body to httpx as `content`: the
    SDK passes the string as `data`, which httpx deprecates (and our tests turn warnings into
    errors)."""

    def _get_request_args_kwargs(  # type: ignore[no-untyped-def]
        self, method: str, url: str, headers: Any, post_data: Any
    ):
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return args, kwargs


def _failure(error: stripe.StripeError) -> GatewayUnavailable | GatewayRefused:
    """The SDK's error as ours: unavailable (try again) or refused (a definite no)."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return GatewayUnavailable("unreachable", str(error.user_message or error))
    status = error.http_status or 0
    if isinstance(error, stripe.APIError) or status >= 500:
        return GatewayUnavailable("provider_error", str(error.user_message or error))
    body: dict[str, Any] = error.json_body if isinstance(error.json_body, dict) else {}
    found = body.get("error")
    details: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(details.get("code") or details.get("type") or "refused")
    decline = details.get("decline_code")
    return GatewayRefused(code, str(error.user_message or error), str(decline) if decline else None)


def _our_id(metadata: Any) -> int | None:
    raw = (metadata or {}).get("payment_id") if hasattr(metadata, "get") else None
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _intent_status(reference: str, intent: dict[str, Any]) -> PaymentStatus:
    """A PaymentIntent (as a plain dict) in our words."""
    state = {
        "succeeded": ProviderState.CAPTURED,
        "requires_capture": ProviderState.AUTHORIZED,
        "canceled": ProviderState.CANCELED,
    }.get(str(intent.get("status")), ProviderState.PENDING)
    error = intent.get("last_payment_error") or {}
    if state is ProviderState.PENDING and error:
        state = ProviderState.FAILED
    return PaymentStatus(
        reference=reference,
        state=state,
        amount_minor=int(intent.get("amount") or 0),
        currency=str(intent.get("currency") or "").upper(),
        payment_id=_our_id(intent.get("metadata")),
        provider_payment_id=str(intent["id"]),
        captured_minor=int(intent.get("amount_received") or 0),
        failure_code=error.get("code") if state is ProviderState.FAILED else None,
        decline_code=error.get("decline_code") if state is ProviderState.FAILED else None,
        failure_message=error.get("message") if state is ProviderState.FAILED else None,
    )


def _session_status(session: dict[str, Any]) -> PaymentStatus:
    """A Checkout Session (a plain dict, its payment_intent expanded or an id) in our words."""
    intent = session.get("payment_intent")
    if isinstance(intent, dict):
        status = _intent_status(str(session["id"]), intent)
        if session.get("status") == "expired" and status.state in {
            ProviderState.PENDING, ProviderState.FAILED,
        }:  # fmt: skip
            return PaymentStatus(**{**status.__dict__, "state": ProviderState.EXPIRED})
        return PaymentStatus(**{**status.__dict__, "payment_id": _our_id(session.get("metadata"))})
    if session.get("status") == "expired":
        state = ProviderState.EXPIRED
    elif session.get("status") == "complete":
        paid = session.get("payment_status") == "paid"
        state = ProviderState.CAPTURED if paid else ProviderState.AUTHORIZED
    else:
        state = ProviderState.PENDING
    amount = int(session.get("amount_total") or 0)
    return PaymentStatus(
        reference=str(session["id"]),
        state=state,
        amount_minor=amount,
        currency=str(session.get("currency") or "").upper(),
        payment_id=_our_id(session.get("metadata")),
        provider_payment_id=str(intent) if intent else None,
        captured_minor=amount if state is ProviderState.CAPTURED else 0,
    )


def _plain(obj: Any) -> dict[str, Any]:
    plain: dict[str, Any] = obj.to_dict(recursive=True) if hasattr(obj, "to_dict") else dict(obj)
    return plain


class StripeGateway:
    """The `Gateway` interface over Stripe Checkout."""

    name = NAME

    def __init__(
        self, secret_key: str, webhook_secret: str, api_base: str, timeout_seconds: float
    ) -> None:
        self._http = _HttpxClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base},
            http_client=self._http,
            # No retries inside a request: the shopper (Pay now) and the reconciliation job
            # retry with the same idempotency key; here a retry only doubles the wait.
            max_network_retries=0,
        )
        self._webhook_secret = webhook_secret

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutStarted:
        metadata = {"payment_id": str(request.payment_id), "order_number": request.order_number}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "success_url": request.return_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": str(request.payment_id),
            "customer_email": request.email,
            "expires_at": request.expires_at,
            "metadata": metadata,
            "payment_intent_data": {
                "capture_method": (
                    "manual" if request.capture_mode is CaptureMode.MANUAL else "automatic"
                ),
                "metadata": metadata,
            },
        }
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as error:
            raise _failure(error) from None
        if not session.url:
            raise GatewayRefused("no_url", "Stripe returned a Checkout Session without a URL")
        return CheckoutStarted(redirect_url=session.url, reference=session.id)

    async def lookup(self, reference: str) -> PaymentStatus:
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(
                reference, {"expand": ["payment_intent"]}
            )
        except stripe.StripeError as error:
            raise _failure(error) from None
        return _session_status(_plain(session))

    async def expire_checkout(self, reference: str, idempotency_key: str) -> PaymentStatus:
        try:
            await self._client.v1.checkout.sessions.expire_async(
                reference, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as error:
            failure = _failure(error)
            if isinstance(failure, GatewayUnavailable):
                raise failure from None
            # Not expirable: it completed (paid) or expired meanwhile. The lookup tells which.
        return await self.lookup(reference)

    async def capture(
        self, provider_payment_id: str, amount_minor: int | None, idempotency_key: str
    ) -> Transaction:
        params: dict[str, Any] = {} if amount_minor is None else {"amount_to_capture": amount_minor}
        try:
            intent = await self._client.v1.payment_intents.capture_async(
                provider_payment_id, params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )  # fmt: skip
        except stripe.StripeError as error:
            raise _failure(error) from None
        state = "succeeded" if intent.status == "succeeded" else "pending"
        return Transaction(intent.id, state, intent.amount_received, intent.currency.upper())

    async def void(self, provider_payment_id: str, idempotency_key: str) -> Transaction:
        try:
            intent = await self._client.v1.payment_intents.cancel_async(
                provider_payment_id, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as error:
            raise _failure(error) from None
        state = "succeeded" if intent.status == "canceled" else "pending"
        return Transaction(intent.id, state, intent.amount, intent.currency.upper())

    async def refund(
        self, provider_payment_id: str, amount_minor: int | None, idempotency_key: str
    ) -> Transaction:
        params: dict[str, Any] = {"payment_intent": provider_payment_id}
        if amount_minor is not None:
            params["amount"] = amount_minor
        try:
            refund = await self._client.v1.refunds.create_async(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _failure(error) from None
        return Transaction(
            refund.id, str(refund.status or "pending"), refund.amount, refund.currency.upper()
        )

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        try:
            event = self._client.construct_event(payload, signature, self._webhook_secret)
        except stripe.SignatureVerificationError:
            raise WebhookRejected("bad_signature", "the Stripe-Signature does not match") from None
        except (ValueError, KeyError, IndexError):  # not JSON, not an event, a garbled header
            raise WebhookRejected("bad_payload", "the webhook body is not a Stripe event") from None
        data = _plain(event).get("data", {}).get("object", {})
        if event.type in SESSION_EVENTS and isinstance(data, dict) and data.get("id"):
            return WebhookEvent(event.id, event.type, _session_status(data))
        if event.type in INTENT_EVENTS and isinstance(data, dict) and data.get("id"):
            return WebhookEvent(event.id, event.type, _intent_status("", data))
        return WebhookEvent(event.id, event.type, None, raw_type_handled=False)
