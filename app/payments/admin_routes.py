"""`/admin/orders/<number>/refund`: staff refund an order's card payment, in full or in part.

A page of its own (the admin order page links here). Viewing needs `orders.view`, refunding
`payments.refund` (owner, manager). The form carries one hidden idempotency key made when the
page is rendered: sent twice (a double click, a reload after a timeout) it refunds once.
Anyone who is not staff gets 404, as for `/admin`.
"""

from __future__ import annotations

import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts.models import UserAccount
from app.accounts.permissions import PermissionDenied, has_permission
from app.accounts.sessions import Session
from app.db import transaction
from app.money import format_money, to_decimal_string
from app.orders import service as orders
from app.payments import refunds
from app.web.caching import keep_private
from app.web.forms import field, personal_form, render_personal
from app.web.sessions import require_staff


async def _page(
    request: Request, session: Session, account: UserAccount, *, errors: dict[str, str],
    status: int, form_key: str | None = None, amount: str | None = None,
) -> Response:  # fmt: skip
    async with transaction(request.app.state.sessionmaker) as db:
        summary = await refunds.refund_summary(db, request.path_params["number"])
    if summary is None:
        raise HTTPException(404)
    currency = summary.order.currency
    done = request.query_params.get("refunded", "")
    context = {
        "summary": summary,
        "status_label": orders.STATUS_LABELS.get(summary.order.status, summary.order.status),
        "money": lambda minor: format_money(minor, currency),
        "can_refund": has_permission(account, "payments.refund") and summary.left_minor > 0,
        "form_key": form_key or secrets.token_urlsafe(24),
        "amount": amount if amount is not None else to_decimal_string(summary.left_minor, currency),
        "errors": errors,
        "notice": f"Refunded {format_money(int(done), currency)}." if done.isdigit() else None,
    }
    return render_personal(
        request, "payments/admin_refund.html", context, session=session, status_code=status
    )


async def refund_page(request: Request) -> Response:
    session, account = await require_staff(request)
    return await _page(request, session, account, errors={}, status=200)


async def refund_submit(request: Request) -> Response:
    session, account = await require_staff(request)
    form = await personal_form(request, session)
    number, key, typed = (
        request.path_params["number"],
        field(form, "key", 64),
        field(form, "amount", 40),
    )
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            summary = await refunds.refund_summary(db, number)
        if summary is None:
            raise HTTPException(404)
        done = await refunds.refund_order(
            request.app.state.sessionmaker, request.app.state.payment_gateway,
            request.app.state.settings, account, number,
            refunds.parse_amount(typed, summary.order.currency), key, field(form, "reason", 200),
        )  # fmt: skip
    except PermissionDenied:
        raise HTTPException(403, "Your role may not refund payments.") from None
    except refunds.RefundError as error:
        # The same key again unless the provider said no to it (a new try needs a new key).
        again = None if error.code == "refused" else key
        return await _page(request, session, account, errors={error.field: error.message},
                           status=422, form_key=again, amount=typed)  # fmt: skip
    target = f"/admin/orders/{number}/refund?refunded={done.amount_minor}"
    return keep_private(RedirectResponse(target, status_code=303))


routes = [
    Route("/admin/orders/{number}/refund", refund_page, methods=["GET"], name="admin_refund"),
    Route("/admin/orders/{number}/refund", refund_submit, methods=["POST"],
          name="admin_refund_submit"),
]  # fmt: skip
