"""`/admin`: the staff landing page. It proves the role checks: what each role may do, the
recent audit log for those allowed to read it, and the staff-role form for owners. The admin
pages themselves (products, stock, orders) come with later issues.

Anyone who is not staff gets 404, as if there were no admin here.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import audit
from app.accounts import service as accounts
from app.accounts.models import UserAccount
from app.accounts.permissions import ROLES, PermissionDenied, has_permission, permissions_of
from app.accounts.sessions import Session
from app.accounts.validation import FieldError
from app.db import transaction
from app.web.caching import keep_private
from app.web.forms import field, personal_form, render_personal
from app.web.sessions import require_staff


async def _page(
    request: Request, session: Session, account: UserAccount, errors: dict[str, str], status: int
) -> Response:
    entries = []
    if has_permission(account, "audit.view"):
        async with transaction(request.app.state.sessionmaker) as db:
            entries = await audit.list_recent_actions(db, account)
    context = {
        "account": account,
        "permissions": sorted(permissions_of(account)),
        "can_manage_staff": has_permission(account, "staff.manage"),
        "roles": ROLES,
        "entries": entries,
        "errors": errors,
        "notice": "The role is changed." if request.query_params.get("done") == "role" else None,
    }
    return render_personal(
        request, "admin/landing.html", context, session=session, status_code=status
    )


async def landing(request: Request) -> Response:
    session, account = await require_staff(request)
    return await _page(request, session, account, {}, 200)


async def change_role(request: Request) -> Response:
    session, account = await require_staff(request)
    form = await personal_form(request, session)
    role = field(form, "role", 20)
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            actor = await accounts.get_account(db, account.id or 0)
            await accounts.change_staff_role(
                db, actor or account, field(form, "email", 320), None if role == "none" else role
            )
    except PermissionDenied:
        raise HTTPException(403, "Your role may not change staff roles.") from None
    except FieldError as error:
        return await _page(request, session, account, {error.field: error.message}, 422)
    return keep_private(RedirectResponse("/admin?done=role", status_code=303))


routes = [
    Route("/admin", landing, methods=["GET"], name="admin"),
    Route("/admin/staff-role", change_role, methods=["POST"], name="admin_change_role"),
]
