"""JSON-LD for search engines: `Product` with its `Offer`s, and `BreadcrumbList`.

Builders return plain dicts; `script_json` turns one into the text of a
`<script type="application/ld+json">` element. Every URL is absolute, built from the SITE_URL
setting (never the request's Host: pages are cached and served to every host name alike).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from app.catalog.images import SIZE
from app.catalog.models import CategoryView, ImageView, ProductDetail
from app.money import to_decimal_string

# A route name and its path parameters to a root-relative path (`app.url_path_for`).
PathFor = Callable[..., str]
SCHEMA = "https://schema.org"


def image_path(image: ImageView) -> str:
    """The largest JPEG of an image: the one crawlers and link previews get."""
    return f"/media/{image.stem}-{SIZE}.jpg"


def product_json_ld(product: ProductDetail, site_url: str, path_for: PathFor) -> dict[str, Any]:
    url = site_url + path_for("product", slug=product.slug)
    data: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "Product",
        "name": product.title,
        "description": product.description,
        "url": url,
        "image": [site_url + image_path(image) for image in product.images],
        "category": " > ".join(crumb.name for crumb in product.breadcrumbs),
    }
    brand = product.attributes.get("brand")
    if brand:
        data["brand"] = {"@type": "Brand", "name": str(brand)}
    if len(product.variants) == 1:
        data["sku"] = product.variants[0].sku
    data["offers"] = [
        {
            "@type": "Offer",
            "name": variant.title,
            "sku": variant.sku,
            "url": f"{url}?variant={variant.id}",
            "price": to_decimal_string(variant.price_minor, variant.currency),
            "priceCurrency": variant.currency,
            "availability": f"{SCHEMA}/{'InStock' if variant.stock > 0 else 'OutOfStock'}",
            "itemCondition": f"{SCHEMA}/NewCondition",
        }
        for variant in product.variants
    ]
    return data


def breadcrumbs_json_ld(
    trail: Sequence[CategoryView],
    site_url: str,
    path_for: PathFor,
    *,
    product: ProductDetail | None = None,
) -> dict[str, Any]:
    """Home, the category trail (root first), then the product when there is one."""
    items = [("Home", site_url + path_for("home"))]
    items += [(c.name, site_url + path_for("category", slug=c.slug)) for c in trail]
    if product is not None:
        items.append((product.title, site_url + path_for("product", slug=product.slug)))
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": item}
            for n, (name, item) in enumerate(items, start=1)
        ],
    }


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` can end it or open a comment.

    Escaping every `<` (not only `</`) also rules out `<!--`, which changes how HTML parsers
    read the rest of a script. JSON readers see the same strings.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
