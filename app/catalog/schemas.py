"""The catalog API's JSON shapes, and how they are built from the service's read models.

These dataclasses are the contract: `app/web/openapi.py` derives the OpenAPI schemas from them and
`app/web/api.py` serialises them, so the document and the responses cannot drift apart.
URLs are root-relative (`/products/x`), as in the pages; only `canonical_url` is absolute, from the
SITE_URL setting (never the request's Host, since responses are cached for every host).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from app.catalog import models
from app.catalog.images import WIDTHS
from app.inventory.service import LOW_STOCK
from app.money import to_decimal_string
from app.web.openapi import describe

Availability = Literal["in_stock", "low_stock", "out_of_stock"]


@dataclass(frozen=True)
class Money:
    """An amount of money: whole minor units (cents) and an ISO 4217 currency. Never a float."""

    amount_minor: Annotated[
        int, describe("Whole minor units: 1299 in EUR is €12.99.", examples=[1299])
    ]
    currency: Annotated[
        str, describe("ISO 4217 currency code.", pattern="^[A-Z]{3}$", examples=["EUR"])
    ]
    amount_decimal: Annotated[
        str,
        describe(
            "The same amount as a decimal string, for display and feeds.",
            pattern=r"^-?[0-9]+(\.[0-9]+)?$",
            examples=["12.99"],
        ),
    ]


@dataclass(frozen=True)
class ImageFile:
    """One encoding of an image at one width."""

    url: Annotated[
        str, describe("Root-relative URL; the file never changes (its name has a hash).")
    ]
    width: Annotated[int, describe("Width in pixels.", minimum=1)]
    format: Annotated[Literal["webp", "jpeg"], describe("WebP, or JPEG for older browsers.")]


@dataclass(frozen=True)
class Image:
    """A product image, square or not, with every width in WebP and JPEG."""

    alt: Annotated[str, describe("Alternative text.")]
    width: Annotated[int, describe("Intrinsic width in pixels (of the largest file).", minimum=1)]
    height: Annotated[int, describe("Intrinsic height in pixels (of the largest file).", minimum=1)]
    src: Annotated[str, describe("A sensible default: the 640 px JPEG.")]
    files: Annotated[list[ImageFile], describe("Every width (320, 640, 960) in WebP and JPEG.")]


@dataclass(frozen=True)
class CategoryRef:
    """A category, as named by a product or a breadcrumb trail."""

    id: Annotated[int, describe("Category id.", minimum=1)]
    slug: Annotated[str, describe("Category slug, as in /categories/<slug>.")]
    name: Annotated[str, describe("Display name.")]
    url: Annotated[str, describe("Root-relative URL of the category page.")]


@dataclass(frozen=True)
class CategoryNode:
    """A category and, nested, every category below it."""

    id: Annotated[int, describe("Category id.", minimum=1)]
    slug: Annotated[str, describe("Category slug; pass it as `category` to list its products.")]
    name: Annotated[str, describe("Display name.")]
    description: Annotated[str, describe("A sentence or two; may be empty.")]
    url: Annotated[str, describe("Root-relative URL of the category page.")]
    children: Annotated[list[CategoryNode], describe("Subcategories, in display order.")]


@dataclass(frozen=True)
class CategoryTree:
    """The whole category tree, top-level categories first."""

    items: Annotated[list[CategoryNode], describe("Top-level categories, in display order.")]


@dataclass(frozen=True)
class ProductSummary:
    """A product as shown in a list: enough for a product card."""

    id: Annotated[int, describe("Product id.", minimum=1)]
    slug: Annotated[str, describe("Product slug, as in /products/<slug>.")]
    title: Annotated[str, describe("Product title.")]
    url: Annotated[str, describe("Root-relative URL of the product page.")]
    price: Annotated[
        Money | None, describe("The lowest variant price; null if it has no variants.")
    ]
    compare_at_price: Annotated[
        Money | None, describe("The was-price of that variant when it is on sale, else null.")
    ]
    in_stock: Annotated[bool, describe("Whether any variant can be bought now.")]
    image: Annotated[Image | None, describe("The first image, or null if there is none.")]


@dataclass(frozen=True)
class ProductList:
    """A page of products."""

    items: Annotated[
        list[ProductSummary], describe("The products on this page (empty past the end).")
    ]
    page: Annotated[int, describe("This page's number, from 1.", minimum=1)]
    limit: Annotated[int, describe("Products per page.", minimum=1, maximum=100)]
    total: Annotated[int, describe("Products matching the filters, across all pages.", minimum=0)]
    next: Annotated[
        str | None, describe("Root-relative URL of the next page; null on the last page.")
    ]


@dataclass(frozen=True)
class Variant:
    """One purchasable option of a product, with its own SKU, price and stock."""

    id: Annotated[int, describe("Variant id (the `variant_id` that carts take).", minimum=1)]
    sku: Annotated[str, describe("Stock keeping unit, unique across the shop.")]
    title: Annotated[str, describe("Option summary, e.g. `M / Navy`.")]
    options: Annotated[dict[str, str], describe('Option name to value, e.g. {"size": "M"}.')]
    price: Annotated[Money, describe("Price of one unit.")]
    compare_at_price: Annotated[Money | None, describe("The was-price when on sale, else null.")]
    stock_level: Annotated[int, describe("Units on hand now (0 when sold out).", minimum=0)]
    availability: Annotated[
        Availability,
        describe(f"in_stock; low_stock when {LOW_STOCK} or fewer are left; out_of_stock at 0."),
    ]


@dataclass(frozen=True)
class VariantList:
    """The variants of one product."""

    product_id: Annotated[int, describe("Product id.", minimum=1)]
    items: Annotated[list[Variant], describe("Variants, in display order.")]


@dataclass(frozen=True)
class Product:
    """A product with its variants, images and category trail."""

    id: Annotated[int, describe("Product id.", minimum=1)]
    slug: Annotated[str, describe("Product slug.")]
    title: Annotated[str, describe("Product title.")]
    description: Annotated[str, describe("Plain text; may be empty.")]
    attributes: Annotated[
        dict[str, Any], describe("Free-form typed attributes (brand, material, …).")
    ]
    canonical_url: Annotated[
        str, describe("Absolute URL of the product page, as its rel=canonical link names it.")
    ]
    category: Annotated[CategoryRef, describe("The category the product sits in.")]
    breadcrumbs: Annotated[
        list[CategoryRef], describe("From the top-level category down to `category`.")
    ]
    price: Annotated[
        Money | None, describe("The lowest variant price; null if it has no variants.")
    ]
    in_stock: Annotated[bool, describe("Whether any variant can be bought now.")]
    variants: Annotated[list[Variant], describe("Variants, in display order.")]
    images: Annotated[list[Image], describe("Images, in display order; the first is the main one.")]


# --- builders ---------------------------------------------------------------------------------


def money(amount_minor: int, currency: str) -> Money:
    return Money(amount_minor, currency, to_decimal_string(amount_minor, currency))


def _optional_money(amount_minor: int | None, currency: str) -> Money | None:
    return None if amount_minor is None or not currency else money(amount_minor, currency)


_FORMATS: tuple[tuple[Literal["webp", "jpeg"], str], ...] = (("webp", "webp"), ("jpeg", "jpg"))


def image(view: models.ImageView) -> Image:
    """The files `app/catalog/images.py` writes for the image, as the page's srcset names them."""
    files = [
        ImageFile(f"/media/{view.stem}-{width}.{ext}", width, fmt)
        for fmt, ext in _FORMATS
        for width in WIDTHS
    ]
    return Image(view.alt, view.width, view.height, f"/media/{view.stem}-640.jpg", files)


def category_ref(view: models.CategoryView) -> CategoryRef:
    return CategoryRef(view.id, view.slug, view.name, f"/categories/{view.slug}")


def category_node(node: models.CategoryNode) -> CategoryNode:
    c = node.category
    children = [category_node(child) for child in node.children]
    return CategoryNode(c.id, c.slug, c.name, c.description, f"/categories/{c.slug}", children)


def product_summary(card: models.ProductCard) -> ProductSummary:
    return ProductSummary(
        id=card.id,
        slug=card.slug,
        title=card.title,
        url=f"/products/{card.slug}",
        price=_optional_money(card.price_minor if card.currency else None, card.currency),
        compare_at_price=_optional_money(card.compare_at_minor, card.currency),
        in_stock=card.in_stock,
        image=image(card.image) if card.image else None,
    )


def _availability(on_hand: int) -> Availability:
    if on_hand <= 0:
        return "out_of_stock"
    return "low_stock" if on_hand <= LOW_STOCK else "in_stock"


def variant(view: models.VariantView) -> Variant:
    return Variant(
        id=view.id,
        sku=view.sku,
        title=view.title,
        options={str(name): str(value) for name, value in view.options.items()},
        price=money(view.price_minor, view.currency),
        compare_at_price=_optional_money(view.compare_at_minor, view.currency),
        stock_level=max(0, view.stock),
        availability=_availability(view.stock),
    )


def product(detail: models.ProductDetail, site_url: str) -> Product:
    """`site_url` is the SITE_URL setting: canonical URLs never come from the request's Host."""
    cheapest = min(detail.variants, key=lambda v: (v.price_minor, v.id), default=None)
    return Product(
        id=detail.id,
        slug=detail.slug,
        title=detail.title,
        description=detail.description,
        attributes=detail.attributes,
        canonical_url=f"{site_url}/products/{detail.slug}",
        category=category_ref(detail.category),
        breadcrumbs=[category_ref(crumb) for crumb in detail.breadcrumbs],
        price=money(cheapest.price_minor, cheapest.currency) if cheapest else None,
        in_stock=any(v.stock > 0 for v in detail.variants),
        variants=[variant(v) for v in detail.variants],
        images=[image(i) for i in detail.images],
    )
