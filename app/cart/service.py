"""Cart rules: lines of variants and quantities, re-checked against today's prices and stock
every time the cart is looked at. Free of HTTP; never commits.

A guest's cart is found by an opaque token (kept in the visitor's session); a signed-in
shopper's cart is the one tied to their account, into which a guest cart is merged at sign-in.
Carts untouched for 30 days are deleted by a worker job.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cart.models import Cart, CartLine
from app.catalog import service as catalog
from app.catalog.models import ImageView
from app.inventory import service as inventory

MAX_QUANTITY = 99
KEEP_DAYS = 30
# Why a line cannot be bought as it stands, or what changed since it was added.
PROBLEMS = ("sold_out", "not_enough", "price_changed")


class CartError(ValueError):
    """A change the cart cannot make; `message` is for the shopper."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CartLineView:
    variant_id: int
    product_slug: str
    product_title: str
    variant_title: str
    sku: str
    image: ImageView | None
    quantity: int
    unit_price_minor: int
    currency: str
    available: int
    unit_weight_grams: int  # shipping weight of one unit
    # What changed since the shopper added it, in words; None when all is well.
    note: str | None = None
    # The same as a stable code (PROBLEMS) for API clients; None when all is well.
    problem: str | None = None

    @property
    def total_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def weight_grams(self) -> int:
        return self.unit_weight_grams * self.quantity

    @property
    def buyable(self) -> bool:
        return 0 < self.quantity <= self.available


@dataclass(frozen=True)
class CartView:
    token: str | None
    lines: list[CartLineView] = field(default_factory=list)
    # Lines of products that no longer exist: shown once, then gone from the cart.
    removed: list[str] = field(default_factory=list)
    removed_variant_ids: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def subtotal_minor(self) -> int:
        return sum(line.total_minor for line in self.lines if line.buyable)

    @property
    def weight_grams(self) -> int:
        """What the parcel of the buyable lines weighs (as the subtotal counts them)."""
        return sum(line.weight_grams for line in self.lines if line.buyable)

    @property
    def currency(self) -> str:
        return self.lines[0].currency if self.lines else "EUR"

    @property
    def ready_for_checkout(self) -> bool:
        return bool(self.lines) and all(line.buyable for line in self.lines)


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError("bad_quantity", f"Choose a quantity from 1 to {MAX_QUANTITY}.")


async def find_cart(session: AsyncSession, token: str | None) -> Cart | None:
    if not token or len(token) > 64:
        return None
    found = await session.execute(select(Cart).where(col(Cart.token) == token))
    return found.scalar_one_or_none()


async def _touch(session: AsyncSession, cart: Cart) -> None:
    cart.updated_at = func.now()  # type: ignore[assignment]
    await session.flush()


async def create_cart(session: AsyncSession) -> str:
    """A new empty cart (for an API client; pages make theirs on the first add); its token."""
    cart = Cart(token=secrets.token_urlsafe(24))
    session.add(cart)
    await session.flush()
    return cart.token


async def add_line(session: AsyncSession, token: str | None, variant_id: int, quantity: int) -> str:
    """Add units of a variant (to a new cart when `token` finds none); returns the cart token.
    Refuses what cannot be bought: an unknown variant, or more than is available."""
    _check_quantity(quantity)
    offers = await catalog.list_variant_offers(session, [variant_id])
    if variant_id not in offers:
        raise CartError("unknown_variant", "That product is no longer available.")
    cart = await find_cart(session, token)
    if cart is None:
        cart = Cart(token=secrets.token_urlsafe(24))
        session.add(cart)
        await session.flush()
    assert cart.id is not None
    line = await session.get(CartLine, (cart.id, variant_id))
    wanted = quantity + (line.quantity if line else 0)
    await _check_stock(session, variant_id, wanted, line.quantity if line else None)
    if line is None:
        price = offers[variant_id].price_minor
        session.add(CartLine(cart_id=cart.id, variant_id=variant_id, quantity=wanted,
                             seen_price_minor=price))  # fmt: skip
    else:
        line.quantity = wanted
    await _touch(session, cart)
    return cart.token


async def _check_stock(
    session: AsyncSession, variant_id: int, wanted: int, have: int | None
) -> None:
    """CartError unless `wanted` units of the variant can be had (`have`: already in the cart)."""
    available = (await inventory.stock_for_variants(session, [variant_id]))[variant_id]
    if available <= 0:
        raise CartError("sold_out", "Sorry, this is sold out.")
    if wanted > min(available, MAX_QUANTITY):
        already = f" You have {have} in your cart already." if have else ""
        limit = min(available, MAX_QUANTITY)
        raise CartError("not_enough", f"Only {limit} available.{already}")


async def set_quantity(
    session: AsyncSession, token: str | None, variant_id: int, quantity: int, *,
    strict: bool = False,
) -> None:  # fmt: skip
    """Change a line's quantity; 0 removes it. The cart view says if stock falls short.

    `strict` (the API) refuses instead: a quantity over what is in stock, a product no longer
    sold, and a line that is not in the cart even when removing it.
    """
    cart = await find_cart(session, token)
    if cart is None or cart.id is None:
        raise CartError("no_cart", "Your cart is empty.")
    if quantity == 0:
        if not await remove_line(session, token, variant_id) and strict:
            raise CartError("no_line", "That item is not in your cart any more.")
        return
    _check_quantity(quantity)
    line = await session.get(CartLine, (cart.id, variant_id))
    if line is None:
        raise CartError("no_line", "That item is not in your cart any more.")
    if strict:
        if variant_id not in await catalog.list_variant_offers(session, [variant_id]):
            raise CartError("unknown_variant", "That product is no longer available.")
        await _check_stock(session, variant_id, quantity, None)
    line.quantity = quantity
    await _touch(session, cart)


async def remove_line(session: AsyncSession, token: str | None, variant_id: int) -> bool:
    """Remove the variant's line; False when the cart had no such line."""
    cart = await find_cart(session, token)
    if cart is None:
        return False
    removed = await session.execute(
        delete(CartLine).where(
            col(CartLine.cart_id) == cart.id, col(CartLine.variant_id) == variant_id
        )
    )
    await _touch(session, cart)
    return bool(removed.rowcount)  # type: ignore[attr-defined]


async def view_cart(session: AsyncSession, token: str | None) -> CartView:
    """The cart as it stands now: today's prices and stock, and what changed, in words.
    Lines whose product is gone are removed and named in `removed`."""
    if not token or len(token) > 64:
        return CartView(token=None)
    # The cart and its lines in one round trip (a cart without lines comes as one row, line None).
    rows = (
        await session.execute(
            select(Cart, CartLine)
            .outerjoin(CartLine, col(CartLine.cart_id) == col(Cart.id))
            .where(col(Cart.token) == token)
            .order_by(col(CartLine.added_at))
        )
    ).all()
    if not rows:
        return CartView(token=None)
    cart = rows[0][0]
    lines = [line for _, line in rows if line is not None]
    ids = [line.variant_id for line in lines]
    offers = await catalog.list_variant_offers(session, ids)
    stock = await inventory.stock_for_variants(session, ids)
    views, removed, removed_ids = [], [], []
    for line in lines:
        offer = offers.get(line.variant_id)
        if offer is None:
            removed.append("An item (SKU no longer sold)")
            removed_ids.append(line.variant_id)
            await session.delete(line)
            continue
        views.append(_line_view(line, offer, stock[line.variant_id]))
    return CartView(token=cart.token, lines=views, removed=removed, removed_variant_ids=removed_ids)


def _line_view(line: CartLine, offer: catalog.VariantOffer, available: int) -> CartLineView:
    note = problem = None
    if available <= 0:
        note, problem = "Sold out since you added it: remove it to check out.", "sold_out"
    elif line.quantity > available:
        note, problem = f"Only {available} left: lower the quantity to check out.", "not_enough"
    elif offer.price_minor != line.seen_price_minor:
        direction = "down" if offer.price_minor < line.seen_price_minor else "up"
        note, problem = f"The price has gone {direction} since you added it.", "price_changed"
    return CartLineView(
        variant_id=line.variant_id, product_slug=offer.product_slug,
        product_title=offer.product_title, variant_title=offer.variant_title, sku=offer.sku,
        image=offer.image, quantity=line.quantity, unit_price_minor=offer.price_minor,
        currency=offer.currency, available=max(0, available), note=note, problem=problem,
        unit_weight_grams=offer.weight_grams,
    )  # fmt: skip


async def count_items(session: AsyncSession, token: str | None) -> int:
    if not token:
        return 0
    total = await session.execute(
        text(
            "SELECT coalesce(sum(l.quantity), 0) FROM cart_line l JOIN cart c ON c.id = l.cart_id "
            "WHERE c.token = :token"
        ),
        {"token": token},
    )
    return int(total.scalar_one())


async def adopt_cart(session: AsyncSession, token: str | None, account_id: int) -> str | None:
    """At sign-in: the account's cart, with the guest cart's lines merged in (quantities
    added, at most 99). Returns the token of the cart the session should use from now on."""
    guest = await find_cart(session, token)
    found = await session.execute(select(Cart).where(col(Cart.account_id) == account_id))
    mine = found.scalar_one_or_none()
    if guest is not None and guest.account_id not in (None, account_id):
        guest = None  # someone else's cart: never merge it
    if mine is None:
        if guest is None:
            return None
        guest.account_id = account_id
        await _touch(session, guest)
        return guest.token
    if guest is not None and guest.id != mine.id:
        await session.execute(
            text(
                "INSERT INTO cart_line (cart_id, variant_id, quantity, seen_price_minor, added_at) "
                "SELECT :mine, variant_id, quantity, seen_price_minor, added_at FROM cart_line "
                "WHERE cart_id = :guest ON CONFLICT (cart_id, variant_id) DO UPDATE "
                "SET quantity = LEAST(cart_line.quantity + excluded.quantity, :most)"
            ),
            {"mine": mine.id, "guest": guest.id, "most": MAX_QUANTITY},
        )
        await session.delete(guest)
    await _touch(session, mine)
    return mine.token


async def delete_stale_carts(session: AsyncSession, now: datetime) -> int:
    """Carts untouched for KEEP_DAYS days go (lines with them)."""
    result = await session.execute(
        delete(Cart).where(col(Cart.updated_at) < now - timedelta(days=KEEP_DAYS))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_EMPTY_CART = text(
    """
    WITH emptied AS (UPDATE cart SET updated_at = now() WHERE token = :token RETURNING id)
    DELETE FROM cart_line USING emptied WHERE cart_line.cart_id = emptied.id
    """
)


async def empty_cart(session: AsyncSession, token: str | None) -> None:
    """Remove every line (the order placed from the cart has them now), in one statement: it
    runs inside every place-order."""
    if token:
        await session.execute(_EMPTY_CART, {"token": token})
