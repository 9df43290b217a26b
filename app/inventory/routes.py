"""`/stock/<variant id>`: the live stock level of a product page, shared by every visitor.

Product pages poll it every second. It is public and cached at the edge for one second (and
purged with the product), so however many shoppers watch a product, the shop answers about
one request a second for it; a sale or restock shows within two seconds.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.db import transaction
from app.inventory.service import stock_for_variants

LIVE_SECONDS = 1


async def live_stock(request: Request) -> Response:
    variant_id: int = request.path_params["variant_id"]
    async with transaction(request.app.state.sessionmaker) as db:
        stock = (await stock_for_variants(db, [variant_id]))[variant_id]
    response: Response = request.app.state.templates.TemplateResponse(
        request, "catalog/_stock_level.html", {"stock": stock, "variant_id": variant_id}
    )
    response.headers["Cache-Control"] = (
        f"public, max-age={LIVE_SECONDS}, s-maxage={LIVE_SECONDS}, stale-if-error=60"
    )
    response.headers["Surrogate-Key"] = f"stock-{variant_id}"
    response.headers["Cache-Tag"] = f"stock-{variant_id}"
    return response


routes = [Route("/stock/{variant_id:int}", live_stock, methods=["GET"], name="live_stock")]
