"""The order page `/orders/<number>`: for its owner, for staff who may view orders, and for a
guest holding it in their session or following the signed link from their mail. Anyone else
gets the same 404 as for a number that never existed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import service as accounts
from app.accounts.validation import COUNTRIES
from app.db import transaction
from app.orders import service as orders
from app.payments import failover, transfers
from app.payments import service as payments
from app.web.forms import render_personal
from app.web.security import allow_payment_page
from app.web.sessions import current_session, placed_order_numbers


async def order_page(request: Request) -> Response:
    session = await current_session(request)
    numbers = placed_order_numbers(session)
    async with transaction(request.app.state.sessionmaker) as db:
        account = None
        if session is not None and session.account_id is not None:
            account = await accounts.get_account(db, session.account_id)
        order = await orders.get_order(db, request.path_params["number"])
        allowed = order is not None and orders.may_view(
            order, account=account, guest_numbers=numbers, secret=str(
                request.app.state.settings.secret_key
            ), token=request.query_params.get("key", "")[:100],
        )  # fmt: skip
        if order is None or order.id is None or not allowed:
            raise HTTPException(404)
        lines = await orders.list_lines(db, order.id)
        payment = await payments.order_payment(db, order)
        transfer = await transfers.transfer_for_order(db, request.app.state.settings, order)
    card_notice = await failover.card_notice(request.app.state.payment_gateway)
    problem = payments.problem_for(request.query_params.get("payment_error", "")[:40])
    context = {"order": order, "lines": lines, "title": f"Order {order.number}",
               "payment": payment, "payment_problem": problem or payment.problem,
               "transfer": transfer, "card_notice": card_notice,
               "link_key": request.query_params.get("key", "")[:100],
               "status_label": orders.STATUS_LABELS[order.status],
               "country": COUNTRIES.get(order.shipping_address.get("country", "")),
               "account": account}  # fmt: skip
    response = render_personal(request, "orders/order.html", context, session=session)
    response.headers["Referrer-Policy"] = "no-referrer"  # the signed link stays here
    return allow_payment_page(response, request.app.state.settings)


routes = [Route("/orders/{number}", order_page, methods=["GET"], name="order")]
