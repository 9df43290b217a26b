"""Staff pages for bank transfers: `/admin/orders` lists the orders waiting for one, and
`/admin/orders/<number>` shows an order with its "Transfer received" form. The permission
checks are the payments service's (`orders.view` to look, `payments.record` to record); a
staff member without them gets 403, anyone else 404 as for every admin page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts.models import UserAccount
from app.accounts.permissions import PermissionDenied, has_permission
from app.accounts.sessions import Session
from app.db import transaction
from app.payments import transfers
from app.payments.errors import PaymentError
from app.web.caching import keep_private
from app.web.forms import personal_form, render_personal
from app.web.sessions import require_staff


async def _case_page(
    request: Request, session: Session, account: UserAccount, number: str,
    errors: dict[str, str], status: int,
) -> Response:  # fmt: skip
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            case = await transfers.transfer_case(db, request.app.state.settings, account, number)
    except PermissionDenied:
        raise HTTPException(403, "Your role may not view orders.") from None
    if case is None:
        raise HTTPException(404)
    context = {
        "account": account, "case": case, "errors": errors, "title": f"Order {number}",
        "notice": transfers.OUTCOMES.get(request.query_params.get("done", "")),
        "can_record": case.can_record and has_permission(account, "payments.record"),
        "now": datetime.now(UTC),
    }  # fmt: skip
    return render_personal(request, "admin/order.html", context, session=session,
                           status_code=status)  # fmt: skip


async def awaiting_transfer(request: Request) -> Response:
    session, account = await require_staff(request)
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            waiting = await transfers.list_awaiting_transfer(db, account)
    except PermissionDenied:
        raise HTTPException(403, "Your role may not view orders.") from None
    context = {"account": account, "waiting": waiting, "title": "Orders awaiting transfer"}
    return render_personal(request, "admin/orders.html", context, session=session)


async def admin_order(request: Request) -> Response:
    session, account = await require_staff(request)
    return await _case_page(request, session, account, request.path_params["number"], {}, 200)


async def transfer_received(request: Request) -> Response:
    session, account = await require_staff(request)
    number = request.path_params["number"]
    await personal_form(request, session)
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            outcome = await transfers.record_transfer(
                db, request.app.state.settings, account, number
            )
    except PermissionDenied:
        raise HTTPException(403, "Your role may not record payments.") from None
    except PaymentError as error:
        return await _case_page(request, session, account, number, {"form": error.message}, 422)
    path = f"/admin/orders/{number}?done={outcome}"
    return keep_private(RedirectResponse(path, status_code=303))


routes = [
    Route("/admin/orders", awaiting_transfer, methods=["GET"], name="admin_orders"),
    Route("/admin/orders/{number}", admin_order, methods=["GET"], name="admin_order"),
    Route("/admin/orders/{number}/transfer-received", transfer_received, methods=["POST"],
          name="admin_transfer_received"),
]  # fmt: skip
