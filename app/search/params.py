"""The query string of search and category pages: parsed strictly, written back canonically.

`?q=&category=&price=&material=&colour=&brand=&in_stock=1&sort=&page=`. Anything malformed is
a 400 with a message a person can act on, never a 500; parameters we do not know are ignored
(campaign tags and the like).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from app.search.models import ATTRIBUTE_FACETS, PRICE_BUCKETS, SORTS, SearchQuery
from app.search.words import MAX_QUERY_LENGTH
from app.web.params import MAX_PAGE, whole_number

PRICE_KEYS = tuple(bucket.key for bucket in PRICE_BUCKETS)
ATTRIBUTE_NAMES = tuple(facet.name for facet in ATTRIBUTE_FACETS)
MAX_VALUES = 20  # per facet
MAX_VALUE_LENGTH = 80
# A reloaded "load more" page shows up to this many pages, ending at ?page=N.
PAGES_ON_RELOAD = 5


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    category: str = ""  # a category slug (search page only; a category page has its own)
    prices: tuple[str, ...] = ()
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # in ATTRIBUTE_NAMES order
    in_stock: bool = False
    sort: str = ""  # "" is the default: relevance with words, else newest
    page: int = 1

    @property
    def active_filters(self) -> int:
        return len(self.prices) + sum(len(v) for _, v in self.attributes) + self.in_stock

    def values(self, name: str) -> tuple[str, ...]:
        return dict(self.attributes).get(name, ())

    def query(self, **fields: object) -> SearchQuery:
        """The SearchQuery for these parameters; `fields` adds the rest (category_id, …)."""
        return SearchQuery(
            q=self.q,
            prices=self.prices,
            attributes=dict(self.attributes),
            in_stock_only=self.in_stock,
            sort=self.sort or ("relevance" if self.q.strip() else "newest"),
            page=self.page,
            **fields,  # type: ignore[arg-type]
        )

    def url(self, path: str, **changes: object) -> str:
        """`path` with these parameters (changed as asked) in one canonical order; page 1 and
        empty values are left out, so equal searches share one URL and one cache entry."""
        params = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = []
        if params.q.strip():
            pairs.append(("q", params.q.strip()))
        if params.category:
            pairs.append(("category", params.category))
        pairs += [("price", key) for key in params.prices]
        for name, values in params.attributes:
            pairs += [(name, value) for value in values]
        if params.in_stock:
            pairs.append(("in_stock", "1"))
        if params.sort:
            pairs.append(("sort", params.sort))
        if params.page > 1:
            pairs.append(("page", str(params.page)))
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def toggled(self, path: str, name: str, value: str) -> str:
        """The URL with facet value `value` switched on or off, back on page 1."""
        if name == "price":
            prices = _toggle(self.prices, value, PRICE_KEYS)
            return self.url(path, prices=prices, page=1)
        if name == "in_stock":
            return self.url(path, in_stock=not self.in_stock, page=1)
        attributes = dict(self.attributes)
        attributes[name] = _toggle(attributes.get(name, ()), value)
        ordered = tuple((n, attributes[n]) for n in ATTRIBUTE_NAMES if attributes.get(n))
        return self.url(path, attributes=ordered, page=1)


def _toggle(values: tuple[str, ...], value: str, order: tuple[str, ...] = ()) -> tuple[str, ...]:
    chosen = [v for v in values if v != value] if value in values else [*values, value]
    if order:
        chosen.sort(key=order.index)
    return tuple(chosen)


def _bad(message: str) -> HTTPException:
    return HTTPException(400, message)


def _one(query: QueryParams, name: str) -> str:
    values = query.getlist(name)
    if len(values) > 1:
        raise _bad(f"{name} may be given once")
    return values[0].strip() if values else ""


def parse_search_params(query: QueryParams, *, allow_category: bool = True) -> SearchParams:
    """Read and check the parameters; raise a 400 HTTPException on anything malformed."""
    q = _one(query, "q")
    if len(q) > MAX_QUERY_LENGTH:
        raise _bad(f"the search words may be at most {MAX_QUERY_LENGTH} characters")
    category = _one(query, "category") if allow_category else ""
    if len(category) > 120:
        raise _bad("no such category")
    sort = _one(query, "sort")
    if sort and sort not in SORTS:
        raise _bad(f"sort must be one of {', '.join(SORTS)}")
    page = whole_number(_one(query, "page") or "1", 1, MAX_PAGE)
    if page is None:
        raise _bad(f"page must be a number from 1 to {MAX_PAGE}")
    in_stock = _one(query, "in_stock")
    if in_stock not in {"", "1", "on", "true"}:
        raise _bad("in_stock must be 1 (or left out)")
    prices = tuple(dict.fromkeys(v for v in query.getlist("price") if v))
    if unknown := [key for key in prices if key not in PRICE_KEYS]:
        raise _bad(f"price must be one of {', '.join(PRICE_KEYS)}, not {unknown[0]!r}")
    attributes = []
    for name in ATTRIBUTE_NAMES:
        values = tuple(dict.fromkeys(v.strip() for v in query.getlist(name) if v.strip()))
        if len(values) > MAX_VALUES or any(len(v) > MAX_VALUE_LENGTH for v in values):
            raise _bad(f"too many or too long {name} values")
        if values:
            attributes.append((name, values))
    return SearchParams(
        q=q,
        category=category,
        prices=tuple(sorted(prices, key=PRICE_KEYS.index)),
        attributes=tuple(attributes),
        in_stock=bool(in_stock),
        sort=sort,
        page=page,
    )


def first_page(params: SearchParams, *, fragment: bool) -> int:
    """An htmx "load more" asks for one page; a full page (a reload, the back button, a link
    without JavaScript) shows the list as it was: up to PAGES_ON_RELOAD pages ending there."""
    return params.page if fragment else max(1, params.page - PAGES_ON_RELOAD + 1)
