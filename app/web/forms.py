"""Forms of personal pages: reading fields safely, checking the session's CSRF token, and
rendering the page (never cached) with that token for its forms."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.accounts.sessions import Session
from app.web.caching import keep_private
from app.web.csrf import CsrfError, check_token, token_for


def field(form: FormData, name: str, max_length: int = 1000) -> str:
    value = form.get(name, "")
    return value[:max_length] if isinstance(value, str) else ""


def render_personal(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    session: Session | None = None,
    status_code: int = 200,
) -> Response:
    """A personal page (`private, no-store`); with a session, its forms get the CSRF token."""
    if session is not None:
        context["csrf_token"] = token_for(str(request.app.state.settings.secret_key), session)
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    return keep_private(response)


async def personal_form(request: Request, session: Session) -> FormData:
    """The posted form of a personal page, after its CSRF token is checked (403 if wrong)."""
    form = await request.form()
    try:
        check_token(request, session, form)
    except CsrfError:
        raise HTTPException(403, "This form has expired: reload the page and try again.") from None
    return form
