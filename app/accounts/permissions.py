"""Staff roles and the named permissions each holds. Services check permissions; templates
only hide what a role cannot use."""

from __future__ import annotations

from app.accounts.models import UserAccount

PERMISSIONS = frozenset(
    {
        "dashboard.view",
        "catalog.edit",
        "stock.adjust",
        "orders.view",
        "orders.fulfil",
        "orders.cancel",
        "payments.refund",
        "payments.record",  # record an incoming bank transfer (app/payments/transfers.py)
        "customers.view",
        "customers.edit",
        "staff.manage",
        "audit.view",
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": PERMISSIONS,
    "manager": PERMISSIONS - {"staff.manage"},
    "clerk": frozenset(
        {"dashboard.view", "catalog.edit", "stock.adjust", "orders.view", "orders.fulfil"}
    ),
    "support": frozenset(
        {"dashboard.view", "orders.view", "orders.cancel", "customers.view", "customers.edit"}
    ),
}
ROLES = tuple(ROLE_PERMISSIONS)


class PermissionDenied(Exception):
    """The account may not do this. Routes answer 403 for staff and 404 for everyone else."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"needs the {permission} permission")
        self.permission = permission


def permissions_of(account: UserAccount | None) -> frozenset[str]:
    if account is None or account.role is None or account.erased_at is not None:
        return frozenset()
    return ROLE_PERMISSIONS.get(account.role, frozenset())


def has_permission(account: UserAccount | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return permission in permissions_of(account)


def require_permission(account: UserAccount | None, permission: str) -> UserAccount:
    if account is None or not has_permission(account, permission):
        raise PermissionDenied(permission)
    return account
