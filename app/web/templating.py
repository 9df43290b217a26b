"""The Jinja2 environment: autoescape on, money and static-file helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from app.catalog import structured_data
from app.catalog.images import WIDTHS
from app.checkout.pricing import format_weight
from app.inventory.service import describe_stock
from app.money import format_money
from app.settings import Settings

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


class StaticManifest:
    """Maps `css/site.css` to its content-hashed name from the build's staticfiles.json."""

    def __init__(self, static_dir: Path) -> None:
        manifest = static_dir / "staticfiles.json"
        self.paths: dict[str, str] = {}
        if manifest.exists():
            self.paths = json.loads(manifest.read_text())["paths"]

    def url(self, name: str) -> str:
        return "/static/" + self.paths.get(name, name)


def media_srcset(stem: str, extension: str) -> str:
    return ", ".join(f"/media/{stem}-{width}.{extension} {width}w" for width in WIDTHS)


@pass_context
def url_path(context: dict[str, Any], name: str, /, **params: Any) -> str:
    """A root-relative link (`/products/x`): cached pages must not bake in one host name."""
    return str(context["request"].app.url_path_for(name, **params))


def _path_for(context: dict[str, Any]) -> structured_data.PathFor:
    app = context["request"].app
    return lambda name, **params: str(app.url_path_for(name, **params))


@pass_context
def product_json_ld(context: dict[str, Any], product: Any) -> dict[str, Any]:
    site_url: str = context["site_url"]
    return structured_data.product_json_ld(product, site_url, _path_for(context))


@pass_context
def breadcrumbs_json_ld(context: dict[str, Any], trail: Any, product: Any = None) -> dict[str, Any]:
    site_url: str = context["site_url"]
    return structured_data.breadcrumbs_json_ld(trail, site_url, _path_for(context), product=product)


def json_ld(data: Any) -> Markup:
    """`{{ data | json_ld }}`: a JSON-LD script element (data, not code: fine under a CSP)."""
    text = structured_data.script_json(data)  # no <, > or & left in it
    return Markup(f'<script type="application/ld+json">{text}</script>')  # noqa: S704


def create_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = templates.env
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    # Checking every template file's mtime on each render costs about 60 stat() calls per
    # listing page; only development edits templates while the app runs.
    env.auto_reload = settings.environment == "development"
    manifest = StaticManifest(settings.static_dir)
    env.globals["static"] = manifest.url
    env.globals["url_path"] = url_path
    env.globals["media_srcset"] = media_srcset
    # Absolute URLs (canonical, Open Graph, JSON-LD) start from the configured public address.
    env.globals["site_url"] = settings.site_url
    env.globals["image_path"] = structured_data.image_path
    env.globals["product_json_ld"] = product_json_ld
    env.globals["breadcrumbs_json_ld"] = breadcrumbs_json_ld
    # How prices are meant (PRICES_INCLUDE_TAX): configuration only, so pages stay the same
    # for every visitor and cacheable at the edge.
    env.globals["prices_include_tax"] = settings.prices_include_tax
    env.globals["tax_label"] = "incl. VAT" if settings.prices_include_tax else "excl. VAT"
    env.filters["json_ld"] = json_ld
    env.filters["weight"] = format_weight
    env.filters["money"] = lambda amount, currency: format_money(amount, currency)
    env.filters["stock_words"] = describe_stock
    return templates
