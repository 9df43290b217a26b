"""Which account an OpenID sign-in gets: the linking rules, on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from app.accounts import service as accounts
from app.accounts.models import OidcIdentity, UserAccount
from app.accounts.oidc import OidcError, ProviderIdentity
from app.accounts.oidc_accounts import link_or_create_account
from tests.factories.accounts import PASSWORD, make_account
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio


def person(
    email: str | None = "nia@example.com",
    *,
    subject: str = "sub-nia",
    verified: bool = True,
    name: str = "Nia Okafor",
) -> ProviderIdentity:
    return ProviderIdentity("demo", subject, email, verified, name)


async def sign_in_as(database_url: str, identity: ProviderIdentity) -> UserAccount:
    async with session_for(database_url) as session:
        return await link_or_create_account(session, identity, "Demo ID")


async def accounts_with(database_url: str, email: str) -> int:
    async with session_for(database_url) as session:
        found = await session.execute(select(func.count()).where(col(UserAccount.email) == email))
        return int(found.scalar_one())


async def identities_of(database_url: str, account_id: int) -> list[tuple[str, str]]:
    async with session_for(database_url) as session:
        found = await session.execute(
            select(col(OidcIdentity.provider), col(OidcIdentity.subject)).where(
                col(OidcIdentity.account_id) == account_id
            )
        )
        return [(provider, subject) for provider, subject in found.all()]


async def test_a_new_person_gets_a_new_verified_account_without_password(
    empty_database_url: str,
) -> None:
    account = await sign_in_as(empty_database_url, person("Nia@Example.com"))

    assert account.email == "nia@example.com"
    assert account.email_verified is True
    assert account.full_name == "Nia Okafor"
    assert account.password_hash is None
    assert await identities_of(empty_database_url, account.id or 0) == [("demo", "sub-nia")]


async def test_a_known_identity_signs_in_to_its_account_whatever_its_email_now(
    empty_database_url: str,
) -> None:
    first = await sign_in_as(empty_database_url, person("nia@example.com"))

    again = await sign_in_as(empty_database_url, person("nia@new-job.example", verified=False))

    assert again.id == first.id
    assert again.email == "nia@example.com"
    assert await accounts_with(empty_database_url, "nia@new-job.example") == 0


async def test_a_verified_address_links_the_existing_password_account(
    empty_database_url: str,
) -> None:
    ada = await make_account(empty_database_url, "ada@example.com", full_name="Ada Lovelace")

    account = await sign_in_as(empty_database_url, person("ADA@example.com", subject="sub-ada"))

    assert account.id == ada.id
    assert account.full_name == "Ada Lovelace"  # the shop's name, not the provider's
    assert account.email_verified is True
    assert await accounts_with(empty_database_url, "ada@example.com") == 1
    assert await identities_of(empty_database_url, ada.id or 0) == [("demo", "sub-ada")]
    async with session_for(empty_database_url) as session:  # the password still works too
        assert await accounts.authenticate(session, "ada@example.com", PASSWORD) is not None


async def test_an_unverified_address_does_not_link_an_existing_account(
    empty_database_url: str,
) -> None:
    ada = await make_account(empty_database_url, "ada@example.com")

    with pytest.raises(OidcError) as refused:
        await sign_in_as(empty_database_url, person("ada@example.com", verified=False))

    assert refused.value.code == "email_unverified"
    assert "sign in with your password first" in refused.value.message
    assert await identities_of(empty_database_url, ada.id or 0) == []


async def test_an_unverified_address_of_nobody_makes_an_unverified_account(
    empty_database_url: str,
) -> None:
    account = await sign_in_as(empty_database_url, person(verified=False))

    assert account.email_verified is False
    assert await identities_of(empty_database_url, account.id or 0) == [("demo", "sub-nia")]


@pytest.mark.parametrize(
    ("role", "totp_secret"),
    [pytest.param("owner", None, id="staff"), pytest.param(None, "JBSWY3DPEHPK3PXP", id="totp")],
)
async def test_accounts_with_a_second_step_are_not_linked(
    empty_database_url: str, role: str | None, totp_secret: str | None
) -> None:
    staff = await make_account(
        empty_database_url, "owner@example.com", role=role, totp_secret=totp_secret
    )

    with pytest.raises(OidcError) as refused:
        await sign_in_as(empty_database_url, person("owner@example.com"))

    assert refused.value.code == "staff_account"
    assert await identities_of(empty_database_url, staff.id or 0) == []


async def test_a_linked_account_made_staff_later_is_refused(empty_database_url: str) -> None:
    account = await sign_in_as(empty_database_url, person())
    async with session_for(empty_database_url) as session:
        mine = await accounts.get_account(session, account.id or 0)
        assert mine is not None
        mine.role = "support"

    with pytest.raises(OidcError) as refused:
        await sign_in_as(empty_database_url, person())

    assert refused.value.code == "staff_account"


async def test_without_an_email_address_nothing_is_made(empty_database_url: str) -> None:
    with pytest.raises(OidcError) as refused:
        await sign_in_as(empty_database_url, person(None))

    assert refused.value.code == "no_email"
    assert await identities_of(empty_database_url, 1) == []


async def test_an_erased_account_starts_afresh(empty_database_url: str) -> None:
    first = await sign_in_as(empty_database_url, person())
    async with session_for(empty_database_url) as session:
        await accounts.erase_account(session, first.id or 0, "")

    again = await sign_in_as(empty_database_url, person())

    assert again.id != first.id
    assert again.email == "nia@example.com"
