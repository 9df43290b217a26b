"""The search service on a real PostgreSQL: ranking, typos, facets, prices, pages, the index."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.db import create_sessionmaker, transaction
from app.search import service as search
from app.search.models import SearchQuery, SearchResults
from tests.factories.search import make_category_under, make_searchable_product

pytestmark = pytest.mark.anyio


@pytest.fixture
async def session(empty_database_url: str) -> AsyncIterator[AsyncSession]:
    """One transaction on an empty, migrated database of this test's own."""
    engine = create_async_engine(empty_database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


async def _index(session: AsyncSession) -> None:
    await search.reindex_all(session)
    await search.rebuild_terms(session)


def _titles(results: SearchResults) -> list[str]:
    return [card.title for card in results.items]


def _counts(results: SearchResults, facet: str) -> dict[str, int]:
    found = results.facet(facet)
    assert found is not None
    return {value.value: value.count for value in found.values}


async def _facet_table(session: AsyncSession) -> list[tuple[object, ...]]:
    rows = await session.execute(
        text("SELECT * FROM search_facet_count WHERE n <> 0 ORDER BY 1, 2, 3, 4")
    )
    return [tuple(row) for row in rows.all()]


# --- ranking and words ---------------------------------------------------------------------


async def test_a_title_match_ranks_above_a_description_match(session: AsyncSession) -> None:
    # Given a product that only mentions the words, newer than the one named so
    await make_searchable_product(
        session, "Tea Towel", description="Pairs well with our linen apron."
    )
    await make_searchable_product(session, "Linen Apron", description="Ties at the back.")
    await _index(session)

    # When a shopper searches for the product's name
    results = await search.search(session, SearchQuery(q="linen apron"))

    # Then both are found, the one with the words in its title first
    assert _titles(results) == ["Linen Apron", "Tea Towel"]
    assert results.total == 2


async def test_the_exact_title_beats_a_longer_title_with_the_same_words(
    session: AsyncSession,
) -> None:
    await make_searchable_product(session, "Rugged Suede Chelsea Boot")  # the newer
    await make_searchable_product(session, "Chelsea Boot")
    await _index(session)

    results = await search.search(session, SearchQuery(q="chelsea boot"))

    assert _titles(results) == ["Chelsea Boot", "Rugged Suede Chelsea Boot"]


async def test_plurals_and_accents_match_through_stemming_and_folding(
    session: AsyncSession,
) -> None:
    await make_searchable_product(session, "Crème Brûlée Dish")
    await _index(session)

    results = await search.search(session, SearchQuery(q="creme brulee dishes"))

    assert _titles(results) == ["Crème Brûlée Dish"]
    assert results.corrected_from is None


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("sweatr", "sweater"), ("swaeter", "sweater"), ("merinno", "merino"), ("lanp", "lamp")],
    ids=["letter-missing", "letters-swapped-long-word", "letter-doubled", "short-word"],
)
async def test_a_one_letter_typo_still_finds_the_product(
    session: AsyncSession, typed: str, meant: str
) -> None:
    await make_searchable_product(session, "Merino Sweater")
    await make_searchable_product(session, "Desk Lamp")
    await make_searchable_product(session, "Sweat Band")
    await _index(session)

    results = await search.search(session, SearchQuery(q=typed))

    assert results.total == 1
    assert meant in results.items[0].title.lower()
    assert results.corrected_from == typed
    assert results.searched_for == meant


async def test_a_word_in_no_product_and_like_none_finds_nothing(session: AsyncSession) -> None:
    await make_searchable_product(session, "Merino Sweater")
    await _index(session)

    # "merino" with its last five letters Cyrillic look-alikes: no word of the catalog is near
    results = await search.search(session, SearchQuery(q="m\u0435\u0440\u0438\u043d\u043e"))

    assert results.total == 0
    assert results.items == []
    assert results.did_you_mean is None


async def test_a_far_off_spelling_is_offered_as_did_you_mean_not_corrected(
    session: AsyncSession,
) -> None:
    await make_searchable_product(session, "Merino Sweater")
    await _index(session)

    results = await search.search(session, SearchQuery(q="swotter"))  # two letters off

    assert results.total == 0
    assert results.did_you_mean == "sweater"
    assert await search.did_you_mean(session, "swotter merino") == "sweater merino"
    assert await search.did_you_mean(session, "merino") is None


async def test_a_word_only_in_descriptions_is_searched_as_typed(session: AsyncSession) -> None:
    # "dishwasher" is in no title, yet known to the index: never "corrected" into another word
    await make_searchable_product(session, "Stoneware Mug", description="Dishwasher safe.")
    await make_searchable_product(session, "Dishcloth")
    await _index(session)

    results = await search.search(session, SearchQuery(q="dishwasher"))

    assert _titles(results) == ["Stoneware Mug"]
    assert results.corrected_from is None


async def test_stop_words_alone_find_nothing_and_blank_browses(session: AsyncSession) -> None:
    await make_searchable_product(session, "Merino Sweater")
    await _index(session)

    assert (await search.search(session, SearchQuery(q="the and"))).total == 0
    assert (await search.search(session, SearchQuery(q="  "))).total == 1


# --- facets --------------------------------------------------------------------------------


async def _four_throws(session: AsyncSession) -> None:
    """Wool/linen by Alpha/Beta, one out of stock: small enough to count by hand."""
    for title, material, brand, colour, price, stock in [
        ("Wool Throw", "Wool", "Alpha", "blue", 1_000, 5),
        ("Heavy Wool Throw", "Wool", "Beta", "green", 3_000, 5),
        ("Linen Throw", "Linen", "Alpha", "blue", 6_000, 0),
        ("Washed Linen Throw", "Linen", "Beta", "red", 12_000, 5),
    ]:
        attributes = {"material": material, "brand": brand, "colour_family": colour}
        await make_searchable_product(
            session, title, attributes=attributes, price_minor=price, stock=(stock,)
        )
    await _index(session)


# Without words, one chosen facet's counts come from the stored counts; with words, all are
# counted live. Both must give the same numbers.
WORDS = pytest.mark.parametrize("q", ["", "throw"], ids=["stored-counts", "live-counts"])


@WORDS
async def test_facet_counts_without_filters(session: AsyncSession, q: str) -> None:
    await _four_throws(session)

    results = await search.search(session, SearchQuery(q=q))

    assert results.total == 4
    assert results.in_stock_count == 3
    assert _counts(results, "material") == {"Wool": 2, "Linen": 2}
    assert _counts(results, "brand") == {"Alpha": 2, "Beta": 2}
    assert _counts(results, "colour") == {"blue": 2, "green": 1, "red": 1}
    assert _counts(results, "price") == {"under-25": 1, "25-50": 1, "50-100": 1, "100-200": 1}


@WORDS
async def test_a_facets_own_choice_does_not_narrow_its_counts(
    session: AsyncSession, q: str
) -> None:
    await _four_throws(session)

    results = await search.search(session, SearchQuery(q=q, attributes={"material": ["Wool"]}))

    assert results.total == 2
    assert _counts(results, "material") == {"Wool": 2, "Linen": 2}  # alternatives stay visible
    assert _counts(results, "brand") == {"Alpha": 1, "Beta": 1}  # narrowed by Wool
    material = results.facet("material")
    assert material is not None
    assert [v.value for v in material.values if v.selected] == ["Wool"]


@WORDS
async def test_two_facets_narrow_each_others_counts(session: AsyncSession, q: str) -> None:
    await _four_throws(session)
    query = SearchQuery(q=q, attributes={"material": ["Wool"], "brand": ["Alpha"]})

    results = await search.search(session, query)

    assert _titles(results) == ["Wool Throw"]
    assert _counts(results, "material") == {"Wool": 1, "Linen": 1}  # brand Alpha applied
    assert _counts(results, "brand") == {"Alpha": 1, "Beta": 1}  # material Wool applied
    assert _counts(results, "colour") == {"blue": 1}  # both applied
    assert results.in_stock_count == 1


@WORDS
async def test_values_of_one_facet_are_alternatives(session: AsyncSession, q: str) -> None:
    await _four_throws(session)
    query = SearchQuery(
        q=q, attributes={"material": ["Wool", "Linen"]}, prices=["under-25", "25-50"]
    )

    results = await search.search(session, query)

    assert sorted(_titles(results)) == ["Heavy Wool Throw", "Wool Throw"]
    assert _counts(results, "price") == {"under-25": 1, "25-50": 1, "50-100": 1, "100-200": 1}


@WORDS
async def test_in_stock_only_applies_to_every_facet(session: AsyncSession, q: str) -> None:
    await _four_throws(session)

    results = await search.search(session, SearchQuery(q=q, in_stock_only=True))

    assert results.total == 3
    assert "Linen Throw" not in _titles(results)
    assert _counts(results, "material") == {"Wool": 2, "Linen": 1}


async def test_the_category_facet_counts_the_scopes_children(session: AsyncSession) -> None:
    home = await make_category_under(session, None, "Home")
    textiles = await make_category_under(session, home, "Textiles")
    lighting = await make_category_under(session, home, "Lighting")
    await make_searchable_product(session, "Wool Throw", category_id=textiles)
    await make_searchable_product(session, "Linen Throw", category_id=textiles)
    await make_searchable_product(session, "Floor Lamp", category_id=lighting)
    await make_searchable_product(session, "Garden Chair")  # in a category of its own
    await _index(session)

    everything = await search.search(session, SearchQuery())
    in_home = await search.search(session, SearchQuery(category_id=home))
    throws = await search.search(session, SearchQuery(q="throw", category_id=home))

    assert everything.total == 4
    assert sorted(_counts(everything, "category").values()) == [1, 3]
    assert in_home.total == 3
    assert sorted(_counts(in_home, "category").values()) == [1, 2]
    assert _titles(await search.search(session, SearchQuery(category_id=lighting))) == [
        "Floor Lamp"
    ]
    assert throws.total == 2


# --- prices --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "bucket"),
    [(2_499, "under-25"), (2_500, "25-50"), (4_999, "25-50"), (5_000, "50-100"),
     (19_999, "100-200"), (20_000, "over-200")],
    ids=["24.99", "25.00", "49.99", "50.00", "199.99", "200.00"],
)  # fmt: skip
async def test_a_price_on_a_bucket_edge_lands_in_exactly_one_bucket(
    session: AsyncSession, price: int, bucket: str
) -> None:
    await make_searchable_product(session, "Edge Case Lamp", price_minor=price)
    await _index(session)

    found = await search.search(session, SearchQuery())

    assert _counts(found, "price") == {bucket: 1}
    for key in ("under-25", "25-50", "50-100", "100-200", "over-200"):
        filtered = await search.search(session, SearchQuery(prices=[key]))
        assert filtered.total == (1 if key == bucket else 0), key


# --- pages ---------------------------------------------------------------------------------


async def test_pages_split_the_results_without_overlap(session: AsyncSession) -> None:
    for number in range(5):
        await make_searchable_product(session, f"Stool {number}")
    await _index(session)

    pages = [
        await search.search(session, SearchQuery(q="stool", page=page, page_size=2))
        for page in (1, 2, 3)
    ]

    assert [len(page.items) for page in pages] == [2, 2, 1]
    assert [page.has_next for page in pages] == [True, True, False]
    assert len({card.id for page in pages for card in page.items}) == 5
    assert pages[0].last == 3
    run = await search.search(session, SearchQuery(q="stool", page=3, page_size=2, first_page=1))
    assert [card.id for card in run.items] == [card.id for p in pages for card in p.items]
    beyond = await search.search(session, SearchQuery(q="stool", page=4, page_size=2))
    assert beyond.items == []
    assert beyond.total == 5


@pytest.mark.parametrize(
    "query",
    [SearchQuery(page=0), SearchQuery(page=2, first_page=3), SearchQuery(page_size=0),
     SearchQuery(page_size=500), SearchQuery(sort="cheapest"), SearchQuery(prices=["0-5"]),
     SearchQuery(attributes={"size": ["M"]})],
    ids=["page-0", "first-after-last", "size-0", "size-500", "sort", "price", "facet"],
)  # fmt: skip
async def test_a_query_out_of_bounds_is_refused(session: AsyncSession, query: SearchQuery) -> None:
    with pytest.raises(search.SearchQueryError):
        await search.search(session, query)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("price_asc", ["Cheap Stool", "Middle Stool", "Dear Stool"]),
     ("price_desc", ["Dear Stool", "Middle Stool", "Cheap Stool"]),
     ("newest", ["Cheap Stool", "Dear Stool", "Middle Stool"])],
    ids=["price-up", "price-down", "newest"],
)  # fmt: skip
async def test_sorting(session: AsyncSession, sort: str, expected: list[str]) -> None:
    await make_searchable_product(session, "Cheap Stool", price_minor=900)
    await make_searchable_product(session, "Dear Stool", price_minor=9_900)
    await make_searchable_product(session, "Middle Stool", price_minor=4_900)
    await _index(session)

    results = await search.search(session, SearchQuery(q="stool", sort=sort))

    assert _titles(results) == expected


# --- keeping the index fresh ---------------------------------------------------------------


async def test_reindexing_products_keeps_counts_equal_to_a_full_rebuild(
    session: AsyncSession,
) -> None:
    # Given an index built in full
    await _four_throws(session)
    wool = await search.search(session, SearchQuery(q="wool throw"))
    changed = wool.items[0].id

    # When one product sells out and gets a new price, another is added, and only those two
    # are reindexed
    await session.execute(
        text(
            "UPDATE stock_level SET on_hand = 0 WHERE variant_id IN "
            "(SELECT id FROM product_variant WHERE product_id = :id)"
        ),
        {"id": changed},
    )
    await session.execute(
        text("UPDATE product_variant SET price_minor = 30000 WHERE product_id = :id"),
        {"id": changed},
    )
    added = await make_searchable_product(session, "Mohair Throw", attributes={"brand": "Gamma"})
    await search.reindex_products(session, [changed, added.id])
    kept = await _facet_table(session)

    # Then the counts are those a full rebuild makes, and searches see the change
    await search.reindex_all(session)
    assert kept == await _facet_table(session)
    results = await search.search(session, SearchQuery(in_stock_only=True))
    assert results.total == 3
    assert _counts(results, "brand") == {"Beta": 2, "Gamma": 1}
    mohair = await search.search(session, SearchQuery(q="mohair"))
    assert _titles(mohair) == ["Mohair Throw"]
    assert mohair.corrected_from is None


async def test_a_deleted_product_leaves_the_index_when_reindexed(session: AsyncSession) -> None:
    await _four_throws(session)
    gone = (await search.search(session, SearchQuery(q="washed linen"))).items[0].id

    variants = "SELECT id FROM product_variant WHERE product_id = :id"
    for delete in (
        f"DELETE FROM stock_level WHERE variant_id IN ({variants})",
        "DELETE FROM product_variant WHERE product_id = :id",
        "DELETE FROM product WHERE id = :id",
    ):
        await session.execute(text(delete), {"id": gone})
    await search.reindex_products(session, [gone])

    results = await search.search(session, SearchQuery())
    assert results.total == 3
    assert _counts(results, "brand") == {"Alpha": 2, "Beta": 1}


async def test_a_reindexed_product_is_counted_and_filtered_by_its_new_attributes(
    session: AsyncSession,
) -> None:
    # Given an index built in full, and one product whose brand and colour then change
    await _four_throws(session)
    wool = (await search.search(session, SearchQuery(q="wool throw"))).items[0].id
    await session.execute(
        text(
            "UPDATE product SET attributes = attributes || "
            '\'{"brand": "Gamma", "colour_family": "red"}\' WHERE id = :id'
        ),
        {"id": wool},
    )

    # When only that product is reindexed
    await search.reindex_products(session, [wool])

    # Then the facet columns (generated from the attributes) follow: live counts and filters
    # on them see the new values
    results = await search.search(session, SearchQuery(q="throw", attributes={"colour": ["red"]}))
    assert sorted(_titles(results)) == ["Washed Linen Throw", "Wool Throw"]
    assert _counts(results, "brand") == {"Beta": 1, "Gamma": 1}
    assert _counts(results, "colour") == {"blue": 1, "green": 1, "red": 2}


# --- suggestions ---------------------------------------------------------------------------


async def test_suggestions_complete_the_last_word_one_per_title(session: AsyncSession) -> None:
    await make_searchable_product(session, "Merino Sweater")
    await make_searchable_product(session, "Merino Sweater")  # another maker, same title
    await make_searchable_product(session, "Merino Scarf")
    await make_searchable_product(session, "Sweat Band")
    await _index(session)

    assert [s.title for s in await search.suggest(session, "merino sw")] == ["Merino Sweater"]
    assert {s.title for s in await search.suggest(session, "swe")} == {
        "Merino Sweater",
        "Sweat Band",
    }
    assert [s.title for s in await search.suggest(session, "sweatr")] == ["Merino Sweater"]
    assert await search.suggest(session, "s") == []
    assert await search.suggest(session, "zzq") == []
