from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.accounts import addresses, audit
from app.accounts import service as accounts
from app.accounts.permissions import PermissionDenied, has_permission
from app.accounts.validation import FieldError
from tests.factories.accounts import PASSWORD, make_account
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio

BERLIN = {"full_name": "Ada Shopper", "line1": "Invalidenstraße 1", "postal_code": "10115",
          "city": "Berlin", "country": "DE"}  # fmt: skip


async def test_register_then_authenticate(empty_database_url: str) -> None:
    async with session_for(empty_database_url) as session:
        await accounts.register(session, " Ada@Example.com", PASSWORD, "Ada")

    async with session_for(empty_database_url) as session:
        found = await accounts.authenticate(session, "ada@example.com", PASSWORD)
        wrong = await accounts.authenticate(session, "ada@example.com", "not the password")
        nobody = await accounts.authenticate(session, "nobody@example.com", PASSWORD)

    assert found is not None
    assert found.full_name == "Ada"
    assert wrong is None
    assert nobody is None


async def test_registering_a_taken_address_is_a_field_error(empty_database_url: str) -> None:
    await make_account(empty_database_url, "ada@example.com")

    async with session_for(empty_database_url) as session:
        with pytest.raises(FieldError) as error:
            await accounts.register(session, "ADA@example.com", PASSWORD)

    assert error.value.field == "email"


async def test_a_short_password_is_refused(empty_database_url: str) -> None:
    async with session_for(empty_database_url) as session:
        with pytest.raises(FieldError, match="at least 10"):
            await accounts.register(session, "ada@example.com", "short")


async def test_another_persons_address_is_not_found(empty_database_url: str) -> None:
    ada = await make_account(empty_database_url)
    bob = await make_account(empty_database_url)
    async with session_for(empty_database_url) as session:
        saved = await addresses.save_address(session, ada.id or 0, BERLIN)
        assert saved is not None
        assert saved.id is not None

    async with session_for(empty_database_url) as session:
        assert await addresses.get_address(session, bob.id or 0, saved.id) is None
        assert await addresses.save_address(session, bob.id or 0, BERLIN, saved.id) is None
        assert not await addresses.delete_address(session, bob.id or 0, saved.id)
        assert await addresses.get_address(session, ada.id or 0, saved.id) is not None


async def test_erasing_an_account_keeps_the_row_and_nothing_personal(
    empty_database_url: str,
) -> None:
    ada = await make_account(empty_database_url, "ada@example.com", full_name="Ada Lovelace")
    async with session_for(empty_database_url) as session:
        await addresses.save_address(session, ada.id or 0, BERLIN)

    async with session_for(empty_database_url) as session:
        account = await accounts.get_account(session, ada.id or 0)
        assert account is not None
        exported = await accounts.export_account(session, ada.id or 0)
        await accounts.erase_account(session, ada.id or 0, PASSWORD)

    assert exported["account"]["email"] == "ada@example.com"
    assert exported["addresses"][0]["city"] == "Berlin"
    async with session_for(empty_database_url) as session:
        query = text("SELECT email, full_name, password_hash FROM user_account WHERE id = :id")
        row = (await session.execute(query, {"id": ada.id})).one()
        assert await addresses.list_addresses(session, ada.id or 0) == []
        assert await accounts.get_account(session, ada.id or 0) is None
        assert await accounts.authenticate(session, "ada@example.com", PASSWORD) is None
    assert row == (f"erased-{ada.id}@invalid", "", None)


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [("owner", "staff.manage", True), ("manager", "staff.manage", False),
     ("manager", "payments.refund", True), ("clerk", "payments.refund", False),
     ("clerk", "stock.adjust", True), ("support", "customers.edit", True),
     ("support", "catalog.edit", False), (None, "dashboard.view", False)],
    ids=["owner-staff", "manager-staff", "manager-refund", "clerk-refund", "clerk-stock",
         "support-customers", "support-catalog", "shopper"],
)  # fmt: skip
async def test_roles_hold_their_named_permissions(
    empty_database_url: str, role: str | None, permission: str, allowed: bool
) -> None:
    account = await make_account(empty_database_url, role=role)

    assert has_permission(account, permission) is allowed


async def test_changing_a_role_needs_the_permission_and_is_audited(
    empty_database_url: str,
) -> None:
    owner = await make_account(empty_database_url, "owner@example.com", role="owner")
    clerk = await make_account(empty_database_url, "clerk@example.com", role="clerk")

    async with session_for(empty_database_url) as session:
        with pytest.raises(PermissionDenied):
            await accounts.change_staff_role(session, clerk, "owner@example.com", "support")
    async with session_for(empty_database_url) as session:
        await accounts.change_staff_role(session, owner, "clerk@example.com", "manager")

    async with session_for(empty_database_url) as session:
        entries = await audit.list_recent_actions(session, owner)
        changed = await accounts.get_account(session, clerk.id or 0)
    assert changed is not None
    assert changed.role == "manager"
    assert [(e.actor_email, e.action, e.before, e.after) for e in entries] == [
        ("owner@example.com", "staff.change_role", {"role": "clerk"}, {"role": "manager"})
    ]


async def test_the_audit_log_refuses_updates_and_deletes(empty_database_url: str) -> None:
    owner = await make_account(empty_database_url, "owner@example.com", role="owner")
    await make_account(empty_database_url, "clerk@example.com", role="clerk")
    async with session_for(empty_database_url) as session:
        await accounts.change_staff_role(session, owner, "clerk@example.com", "support")

    for statement in ("UPDATE staff_audit_entry SET action = 'nothing'",
                      "DELETE FROM staff_audit_entry", "TRUNCATE staff_audit_entry"):  # fmt: skip
        with pytest.raises(DBAPIError, match="append-only"):
            async with session_for(empty_database_url) as session:
                await session.execute(text(statement))
