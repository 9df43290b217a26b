"""Which account a person signing in through OpenID Connect gets. Free of HTTP; never commits.

1. An identity seen before, (provider, subject), signs in to the account it is linked to.
2. Otherwise an account with the same e-mail address is linked, but only if the provider
   says it has verified that address: an unverified claim is just text anyone could type at
   some providers, and linking on it would hand over someone else's account.
3. Otherwise a new account is made, without a password, its address verified as the
   provider says.

Staff accounts never sign in this way (docs/oidc.md): their way in is the password and the
security code, which an outside provider's account must not be able to skip.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OidcIdentity, UserAccount
from app.accounts.oidc import OidcError, ProviderIdentity
from app.accounts.service import find_account_by_email, get_account
from app.accounts.validation import FieldError, clean_text, normalise_email


async def link_or_create_account(
    session: AsyncSession, identity: ProviderIdentity, label: str
) -> UserAccount:
    """The account to sign in; `label` names the provider in messages ("Continue with …")."""
    linked = await session.get(OidcIdentity, (identity.provider, identity.subject))
    if linked is not None:
        account = await get_account(session, linked.account_id)
        if account is None:
            raise OidcError("account_gone", "The account linked to this sign-in is closed.")
        _refuse_staff(account, label)
        return account
    email = _email_of(identity, label)
    account = await find_account_by_email(session, email)
    if account is None:
        account = UserAccount(
            email=email, full_name=_name_of(identity), email_verified=identity.email_verified
        )
        session.add(account)
        await session.flush()
    elif not identity.email_verified:
        raise OidcError(
            "email_unverified",
            f"There is already an account with {email}, and {label} has not confirmed that "
            "this address is yours. Please sign in with your password first.",
        )
    else:
        _refuse_staff(account, label)
        account.email_verified = True
    assert account.id is not None
    session.add(
        OidcIdentity(provider=identity.provider, subject=identity.subject, account_id=account.id)
    )
    await session.flush()
    return account


def _refuse_staff(account: UserAccount, label: str) -> None:
    if account.is_staff or account.totp_secret:
        raise OidcError(
            "staff_account",
            f"This account signs in with its password and security code, not with {label}.",
        )


def _email_of(identity: ProviderIdentity, label: str) -> str:
    if identity.email is None:
        raise OidcError(
            "no_email",
            f"{label} did not share your e-mail address with us, so we cannot make or find "
            "your account. Allow access to your e-mail address and try again.",
        )
    try:
        return normalise_email(identity.email)
    except FieldError:
        raise OidcError(
            "no_email", f"{label} shared an e-mail address we cannot use: {identity.email}"
        ) from None


def _name_of(identity: ProviderIdentity) -> str:
    try:
        return clean_text(identity.name, "full_name", max_length=120, required=False)
    except FieldError:
        return ""
