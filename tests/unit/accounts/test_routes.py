from __future__ import annotations

import httpx
import pytest
from redis.asyncio import Redis

from app.accounts import sessions, totp
from app.settings import Settings
from app.web.sessions import COOKIE
from tests.factories.accounts import PASSWORD, make_account
from tests.unit.accounts.conftest import csrf_token, sign_in

pytestmark = pytest.mark.anyio

ADDRESS = {"full_name": "Ada Shopper", "line1": "Invalidenstraße 1", "postal_code": "10115",
           "city": "Berlin", "country": "DE"}  # fmt: skip


async def test_register_signs_in_with_a_safe_cookie(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/account/register",
        data={"email": "New@Example.com", "password": PASSWORD, "full_name": "Nia"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=welcome"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    page = await client.get("/account?done=welcome")
    assert 'data-testid="account-email">new@example.com<' in page.text
    assert "Welcome! Your account is ready." in page.text
    assert page.headers["cache-control"] == "private, no-store"


async def test_register_errors_re_render_the_form(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/account/register", data={"email": "not-an-address", "password": PASSWORD}
    )

    assert response.status_code == 422
    assert 'data-testid="form-error"' in response.text
    assert 'value="not-an-address"' in response.text
    assert "set-cookie" not in response.headers


async def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")

    wrong = await sign_in(client, "ada@example.com", "wrong password!")
    unknown = await sign_in(client, "nobody@example.com", "wrong password!")

    assert wrong.status_code == unknown.status_code == 422
    message = "That e-mail address and password do not match an account."
    assert message in wrong.text
    assert message in unknown.text
    assert "set-cookie" not in wrong.headers


async def test_signing_in_rotates_the_session_token(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    await make_account(database_url, "ada@example.com")
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    planted = await sessions.start_session(redis)  # e.g. fixed by an attacker beforehand
    client.cookies.set(COOKIE, planted.token, domain="shop.test")

    response = await sign_in(client, "ada@example.com")

    assert response.status_code == 303
    new_token = client.cookies[COOKIE]
    assert new_token != planted.token
    assert await sessions.load_session(redis, planted.token) is None
    signed_in = await sessions.load_session(redis, new_token)
    await redis.aclose()
    assert signed_in is not None
    assert signed_in.account_id is not None


async def test_brute_force_on_one_account_gets_429_even_with_the_right_password(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    for _ in range(5):
        assert (await sign_in(client, "ada@example.com", "guess guess guess")).status_code == 422

    blocked = await sign_in(client, "ada@example.com")

    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 900
    assert "Too many attempts. Please wait 15 minutes" in blocked.text


async def test_many_accounts_from_one_address_get_429(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    statuses = [
        (
            await sign_in(
                client,
                f"guess{n}@example.com",
                "guess guess guess",
            )
        ).status_code
        for n in range(31)
    ]

    assert statuses[:30] == [422] * 30
    assert statuses[30] == 429


async def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(
    client: httpx.AsyncClient,
) -> None:
    # The test client is 127.0.0.1, a trusted proxy: each forwarded address has its own count.
    for n in range(31):
        response = await client.post(
            "/account/login",
            data={"email": f"guess{n}@example.com", "password": "guess guess guess"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert response.status_code == 422


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
     {"Sec-Fetch-Site": "same-site"}, {"Origin": "null"},
     {"Origin": "", "Referer": "https://evil.example/page"}],
    ids=["foreign-origin", "cross-site", "same-site", "null-origin", "foreign-referer"],
)  # fmt: skip
async def test_cross_site_posts_are_refused_with_a_clear_page(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    sent = {name: value for name, value in headers.items() if value}
    if "Origin" not in sent:
        client.headers.pop("Origin")
    response = await client.post(
        "/account/login", data={"email": "a@example.com", "password": "x"}, headers=sent
    )

    assert response.status_code == 403
    assert "That form came from another site" in response.text
    assert "Nothing was changed" in response.text


async def test_a_post_without_origin_or_fetch_metadata_is_refused(
    client: httpx.AsyncClient,
) -> None:
    client.headers.pop("Origin")

    response = await client.post("/cart/lines", data={"variant_id": "1"})

    assert response.status_code == 403


async def test_same_origin_fetch_metadata_passes(client: httpx.AsyncClient) -> None:
    client.headers.pop("Origin")

    response = await client.post(
        "/account/login",
        data={"email": "a@example.com", "password": "x"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 422


async def test_personal_forms_need_the_session_token(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")

    without = await client.post("/account/addresses/new", data=ADDRESS)
    forged = await client.post("/account/addresses/new", data={**ADDRESS, "csrf_token": "0" * 64})
    token = await csrf_token(client)
    with_token = await client.post("/account/addresses/new", data={**ADDRESS, "csrf_token": token})

    assert without.status_code == forged.status_code == 403
    assert with_token.status_code == 303
    assert "Invalidenstraße 1" in (await client.get("/account")).text


async def test_address_errors_name_the_field(client: httpx.AsyncClient, database_url: str) -> None:
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")
    token = await csrf_token(client)

    response = await client.post(
        "/account/addresses/new", data={**ADDRESS, "postal_code": "SW1A 1AA", "csrf_token": token}
    )

    assert response.status_code == 422
    assert "not a postal code in Germany (like 10115)" in response.text


async def test_another_persons_address_answers_404(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    await make_account(database_url, "eve@example.com")
    await sign_in(client, "ada@example.com")
    token = await csrf_token(client)
    await client.post("/account/addresses/new", data={**ADDRESS, "csrf_token": token})
    ada_page = (await client.get("/account")).text
    address_id = ada_page.split("/account/addresses/")[1].split("/")[0]
    await client.post("/account/logout", data={"csrf_token": await csrf_token(client)})

    await sign_in(client, "eve@example.com")
    token = await csrf_token(client)
    edit = await client.get(f"/account/addresses/{address_id}/edit")
    change = await client.post(
        f"/account/addresses/{address_id}/edit", data={**ADDRESS, "csrf_token": token}
    )
    delete = await client.post(
        f"/account/addresses/{address_id}/delete", data={"csrf_token": token}
    )

    assert edit.status_code == change.status_code == delete.status_code == 404


async def test_markup_in_a_name_comes_back_inert(client: httpx.AsyncClient) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    await client.post(
        "/account/register",
        data={"email": "eve@example.com", "password": PASSWORD, "full_name": payload},
    )

    page = await client.get("/account")
    menu = await client.get("/fragments/me")

    for html in (page.text, menu.text):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html


async def test_the_account_menu_names_the_signed_in_person(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com", full_name="Ada Lovelace")
    assert ">Sign in<" in (await client.get("/fragments/me")).text

    await sign_in(client, "ada@example.com")
    menu = await client.get("/fragments/me")

    assert ">Ada Lovelace<" in menu.text
    assert menu.headers["cache-control"] == "private, no-store"


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, database_url: str) -> None:
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")

    response = await client.post("/account/logout", data={"csrf_token": await csrf_token(client)})

    assert response.status_code == 303
    assert f'{COOKIE}=""' in response.headers["set-cookie"]
    assert 'data-testid="login-email"' in (await client.get("/account")).text


async def test_sign_out_everywhere_and_password_change_end_other_sessions(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")
    phone_token = client.cookies[COOKIE]
    client.cookies.clear()
    await sign_in(client, "ada@example.com")

    response = await client.post(
        "/account/logout-everywhere", data={"csrf_token": await csrf_token(client)}
    )
    assert response.status_code == 303
    assert (
        "signed out on every other device" in (await client.get(response.headers["location"])).text
    )
    laptop_token = client.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, phone_token, domain="shop.test")
    assert 'data-testid="login-email"' in (await client.get("/account")).text

    client.cookies.set(COOKIE, laptop_token, domain="shop.test")
    token = await csrf_token(client, "/account/password")
    changed = await client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "an even longer one",
            "csrf_token": token,
        },
    )
    assert changed.status_code == 303
    assert client.cookies[COOKIE] != laptop_token
    client.cookies.clear()
    assert (await sign_in(client, "ada@example.com", "an even longer one")).status_code == 303


async def test_change_email_needs_the_password(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    await make_account(database_url, "bob@example.com")
    await sign_in(client, "ada@example.com")
    token = await csrf_token(client, "/account/email")

    wrong = await client.post(
        "/account/email",
        data={"email": "ada2@example.com", "password": "nope", "csrf_token": token},
    )
    taken = await client.post(
        "/account/email",
        data={"email": "bob@example.com", "password": PASSWORD, "csrf_token": token},
    )
    done = await client.post(
        "/account/email",
        data={"email": "ada2@example.com", "password": PASSWORD, "csrf_token": token},
    )

    assert wrong.status_code == taken.status_code == 422
    assert "Another account uses this e-mail address." in taken.text
    assert done.status_code == 303
    assert "ada2@example.com" in (await client.get("/account")).text


async def test_export_then_delete_the_account(client: httpx.AsyncClient, database_url: str) -> None:
    await make_account(database_url, "ada@example.com", full_name="Ada")
    await sign_in(client, "ada@example.com")
    await client.post(
        "/account/addresses/new", data={**ADDRESS, "csrf_token": await csrf_token(client)}
    )

    exported = await client.get("/account/export")
    token = await csrf_token(client, "/account/delete")
    deleted = await client.post("/account/delete", data={"password": PASSWORD, "csrf_token": token})

    assert exported.headers["content-disposition"].startswith("attachment")
    assert exported.json()["account"]["email"] == "ada@example.com"
    assert exported.json()["addresses"][0]["postal_code"] == "10115"
    assert deleted.status_code == 200
    assert "Your account is deleted" in deleted.text
    client.cookies.clear()
    assert (await sign_in(client, "ada@example.com")).status_code == 422


async def test_next_only_leads_to_this_site(client: httpx.AsyncClient, database_url: str) -> None:
    await make_account(database_url, "ada@example.com")

    response = await sign_in(client, "ada@example.com", next="//evil.example/x")

    assert response.headers["location"] == "/account"


async def test_admin_is_404_for_anonymous_visitors_and_shoppers(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    assert (await client.get("/admin")).status_code == 404

    await sign_in(client, "ada@example.com")

    assert (await client.get("/admin")).status_code == 404


async def test_a_clerk_sees_their_permissions_and_may_not_change_roles(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "clerk@example.com", role="clerk")
    await make_account(database_url, "support@example.com", role="support")
    signed_in = await sign_in(client, "clerk@example.com")
    assert signed_in.headers["location"] == "/admin"

    page = await client.get("/admin")
    token = await csrf_token(client)  # the clerk's page has no form; the token is per session
    refused = await client.post(
        "/admin/staff-role",
        data={"email": "support@example.com", "role": "owner", "csrf_token": token},
    )

    assert 'data-testid="admin-role">clerk<' in page.text
    assert "stock.adjust" in page.text
    assert "payments.refund" not in page.text
    assert 'data-testid="admin-staff-role"' not in page.text
    assert refused.status_code == 403


async def test_an_owner_changes_a_role_and_the_audit_log_shows_it(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "owner@example.com", role="owner")
    await make_account(database_url, "clerk@example.com", role="clerk")
    await sign_in(client, "owner@example.com")
    token = await csrf_token(client, "/admin")

    missing = await client.post(
        "/admin/staff-role",
        data={"email": "nobody@example.com", "role": "clerk", "csrf_token": token},
    )
    changed = await client.post(
        "/admin/staff-role",
        data={"email": "clerk@example.com", "role": "manager", "csrf_token": token},
    )
    page = await client.get("/admin?done=role")

    assert missing.status_code == 422
    assert "No staff member has this e-mail" in missing.text
    assert changed.status_code == 303
    assert 'data-testid="admin-audit-log"' in page.text
    assert "staff.change_role" in page.text
    assert '{"role": "manager"}' in page.text


async def test_staff_with_totp_need_a_code(client: httpx.AsyncClient, database_url: str) -> None:
    secret = totp.new_secret()
    await make_account(database_url, "owner@example.com", role="owner", totp_secret=secret)

    first = await sign_in(client, "owner@example.com")
    assert first.headers["location"] == "/account/login/code"
    assert (await client.get("/admin")).status_code == 404
    token = await csrf_token(client, "/account/login/code")
    wrong = await client.post("/account/login/code", data={"code": "000000", "csrf_token": token})
    right = await client.post(
        "/account/login/code",
        data={"code": totp.code_at(secret, __import__("time").time()), "csrf_token": token},
    )

    assert wrong.status_code == 422
    assert "That code is not right" in wrong.text
    assert right.status_code == 303
    assert right.headers["location"] == "/admin"
    assert (await client.get("/admin")).status_code == 200
