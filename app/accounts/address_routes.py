"""The address book pages. Another person's address id answers 404, exactly like one that
never existed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import addresses
from app.accounts.addresses import ADDRESS_FIELDS
from app.accounts.validation import COUNTRIES, FieldError
from app.db import transaction
from app.web.caching import keep_private
from app.web.forms import field, personal_form, render_personal
from app.web.sessions import require_account


def _form_context(values: dict[str, str], errors: dict[str, str], action: str) -> dict[str, object]:
    return {"values": values, "errors": errors, "action": action, "countries": COUNTRIES}


async def new_address_page(request: Request) -> Response:
    session, _ = await require_account(request)
    context = _form_context({"country": "DE"}, {}, "/account/addresses/new")
    return render_personal(request, "accounts/address_form.html", context, session=session)


async def edit_address_page(request: Request) -> Response:
    session, account = await require_account(request)
    address_id = request.path_params["address_id"]
    async with transaction(request.app.state.sessionmaker) as db:
        address = await addresses.get_address(db, account.id or 0, address_id)
    if address is None:
        raise HTTPException(404)
    values = {name: str(getattr(address, name)) for name in ADDRESS_FIELDS}
    context = _form_context(values, {}, f"/account/addresses/{address_id}/edit")
    return render_personal(request, "accounts/address_form.html", context, session=session)


async def save_address(request: Request) -> Response:
    session, account = await require_account(request)
    form = await personal_form(request, session)
    values = {name: field(form, name, 200) for name in ADDRESS_FIELDS}
    address_id: int | None = request.path_params.get("address_id")
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            saved = await addresses.save_address(db, account.id or 0, values, address_id)
    except FieldError as error:
        context = _form_context(values, {error.field: error.message}, request.url.path)
        return render_personal(
            request, "accounts/address_form.html", context, session=session, status_code=422
        )
    if saved is None:
        raise HTTPException(404)
    return keep_private(RedirectResponse("/account?done=address-saved", status_code=303))


async def delete_address(request: Request) -> Response:
    session, account = await require_account(request)
    await personal_form(request, session)
    async with transaction(request.app.state.sessionmaker) as db:
        deleted = await addresses.delete_address(
            db, account.id or 0, request.path_params["address_id"]
        )
    if not deleted:
        raise HTTPException(404)
    return keep_private(RedirectResponse("/account?done=address-deleted", status_code=303))


routes = [
    Route("/account/addresses/new", new_address_page, methods=["GET"], name="new_address"),
    Route("/account/addresses/new", save_address, methods=["POST"], name="add_address"),
    Route(
        "/account/addresses/{address_id:int}/edit",
        edit_address_page,
        methods=["GET"],
        name="edit_address",
    ),
    Route(
        "/account/addresses/{address_id:int}/edit",
        save_address,
        methods=["POST"],
        name="update_address",
    ),
    Route(
        "/account/addresses/{address_id:int}/delete",
        delete_address,
        methods=["POST"],
        name="delete_address",
    ),
]
