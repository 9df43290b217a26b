"""Example responses for the API document, built by the same builders as real responses.

A test validates each one against its schema, so the examples on the docs page are true.
"""

from __future__ import annotations

from typing import Any

from app.catalog import models, schemas
from app.search import api as search_api

SITE_URL = "https://shop.example"

_CLOTHING = models.CategoryView(1, "clothing", "Clothing", "Everyday layers.", None)
_KNITWEAR = models.CategoryView(7, "knitwear", "Knitwear", "", 1)
_IMAGE = models.ImageView("products/d03-5f1c0e9a2b", "Relaxed Merino Crew Sweater", 960, 960)
_VARIANTS = [
    models.VariantView(1, "EC-000001-01", "M / Navy", {"size": "M", "colour": "Navy"}, 8900,
                       "EUR", 14, 11900),
    models.VariantView(2, "EC-000001-02", "L / Navy", {"size": "L", "colour": "Navy"}, 9400,
                       "EUR", 3, None),
]  # fmt: skip
_DETAIL = models.ProductDetail(
    id=1,
    slug="relaxed-merino-crew-sweater-1",
    title="Relaxed Merino Crew Sweater",
    description="Soft from the first wear and better with every wash.",
    attributes={"brand": "Northfold", "material": "Merino", "colour_family": "Blue"},
    category=_KNITWEAR,
    breadcrumbs=[_CLOTHING, _KNITWEAR],
    variants=_VARIANTS,
    images=[_IMAGE],
)
_CARD = models.ProductCard(1, _DETAIL.slug, _DETAIL.title, 8900, "EUR", True, _IMAGE, 11900)
_SUMMARY = schemas.product_summary(_CARD)

EXAMPLES: dict[str, Any] = {
    "ProductList": schemas.ProductList(
        [_SUMMARY], 1, 1, 60, "/api/v1/products?category=clothing&page=2&limit=1&sort=newest"
    ),
    "Product": schemas.product(_DETAIL, SITE_URL),
    "VariantList": schemas.VariantList(1, [schemas.variant(v) for v in _VARIANTS]),
    "CategoryTree": schemas.CategoryTree(
        [
            schemas.category_node(
                models.CategoryNode(_CLOTHING, [models.CategoryNode(_KNITWEAR, [])])
            )
        ]
    ),
    "SearchResults": search_api.SearchResults(
        items=[_SUMMARY],
        page=1,
        limit=1,
        total=3,
        next="/api/v1/search?q=merino+sweatr&sort=relevance&limit=1&page=2",
        searched_for="merino sweater",
        corrected_from="merino sweatr",
        did_you_mean=None,
        in_stock_count=2,
        facets=[
            search_api.Facet(
                "category", "Category", [search_api.FacetValue("knitwear", "Knitwear", 3, False)]
            ),
            search_api.Facet(
                "price", "Price", [search_api.FacetValue("50-100", "€50 to €100", 3, False)]
            ),
            search_api.Facet(
                "brand", "Brand", [search_api.FacetValue("Northfold", "Northfold", 2, False)]
            ),
        ],
    ),
}
