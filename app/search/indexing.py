"""Building the search index from the catalog: documents, facet counts and the word list.

The indexer is the one place where search reads other domains' tables (product, variants,
stock, categories): it is the index builder, like an Elasticsearch ingest pipeline, and doing
it in one set-based statement is what makes a full rebuild of 100,000 products take seconds.
Everything else in the search domain reads only its own tables.

Nothing here commits. Run in READ COMMITTED (PostgreSQL's default): `reindex_products` locks
the products it reindexes and then reads their old index rows in a fresh snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.search.models import ATTRIBUTE_FACETS, PRICE_BUCKETS

_GIN_INDEXES = (
    "ix_search_document_vector",
    "ix_search_document_category_path",
    "ix_search_document_attributes",
)
# pg_advisory_xact_lock(namespace, product_id): two reindexes of one product take turns.
_LOCK_NAMESPACE = 0x5EA2C4

_TREE = """
    tree(id, path, names) AS (
        SELECT c.id, ARRAY[c.id], c.name::text FROM category c WHERE c.parent_id IS NULL
        UNION ALL
        SELECT c.id, t.path || c.id, t.names || ' ' || c.name
        FROM category c JOIN tree t ON c.parent_id = t.id
    )
"""
_FACET_KEYS = ", ".join(f"'{facet.key}'" for facet in ATTRIBUTE_FACETS)

# One product as a search document. Weights: title A > category names and attribute values
# B > description C; words are folded (lower case, no accents) and stemmed (english).
_DOCUMENTS = f"""
    SELECT p.id AS product_id, p.title, p.slug, p.category_id, t.path AS category_path,
        offer.min_price AS min_price_minor, offer.currency, offer.in_stock,
        facets.attributes, p.created_at,
        setweight(to_tsvector('english', search_fold(p.title)), 'A')
        || setweight(to_tsvector('english', search_fold(concat_ws(' ', t.names, words.text))), 'B')
        || setweight(to_tsvector('english', search_fold(p.description)), 'C') AS search_vector
    FROM product p
    JOIN tree t ON t.id = p.category_id
    CROSS JOIN LATERAL (
        SELECT min(v.price_minor) AS min_price, min(v.currency) AS currency,
               coalesce(bool_or(s.on_hand - s.reserved > 0), false) AS in_stock
        FROM product_variant v LEFT JOIN stock_level s ON s.variant_id = v.id
        WHERE v.product_id = p.id
    ) offer
    CROSS JOIN LATERAL (
        SELECT coalesce(jsonb_object_agg(a.key, a.value)
                        FILTER (WHERE a.key IN ({_FACET_KEYS}) AND a.value <> ''), '{{}}')
                   AS attributes
        FROM jsonb_each_text(p.attributes) a
    ) facets
    CROSS JOIN LATERAL (
        SELECT string_agg(a.value #>> '{{}}', ' ') AS text
        FROM jsonb_each(p.attributes) a
        WHERE jsonb_typeof(a.value) IN ('string', 'number')
    ) words
    WHERE offer.min_price IS NOT NULL
"""
_COLUMNS = (
    "product_id, title, slug, category_id, category_path, min_price_minor, currency, in_stock, "
    "attributes, created_at, search_vector"
)
_CHANGED = ", ".join(f"d.{column}" for column in _COLUMNS.split(", "))
_NEW = ", ".join(f"excluded.{column}" for column in _COLUMNS.split(", "))
_UPSERT = f"""
    INSERT INTO search_document AS d ({_COLUMNS})
    SELECT {_COLUMNS} FROM fresh
    ON CONFLICT (product_id) DO UPDATE SET
        title = excluded.title, slug = excluded.slug, category_id = excluded.category_id,
        category_path = excluded.category_path, min_price_minor = excluded.min_price_minor,
        currency = excluded.currency, in_stock = excluded.in_stock,
        attributes = excluded.attributes, created_at = excluded.created_at,
        search_vector = excluded.search_vector
    WHERE ({_CHANGED}) IS DISTINCT FROM ({_NEW})
"""


def _facet_keys(rows: str, sign: str) -> str:
    """(scope, in stock only, facet, value, n) for every count a document adds to.

    A document counts in its category, every ancestor and scope 0 (everything); in the
    "in stock only" variant of each when it is in stock; and once per facet there.
    """
    attributes = ",\n".join(
        f"('{facet.name}', x.attributes ->> '{facet.key}')" for facet in ATTRIBUTE_FACETS
    )
    return f"""
        SELECT s.scope_id, st.in_stock_only, k.facet, k.value, sum({sign})::int AS n
        FROM {rows} x
        CROSS JOIN LATERAL unnest(ARRAY[0] || x.category_path, x.category_path)
            AS s(scope_id, child_id)
        CROSS JOIN LATERAL (VALUES (false), (true)) AS st(in_stock_only)
        CROSS JOIN LATERAL (VALUES
            ('total', ''),
            ('category', s.child_id::text),
            ('price', (CAST(:bucket_keys AS text[]))[
                width_bucket(x.min_price_minor, CAST(:bucket_edges AS integer[])) + 1]),
            {attributes},
            ('in_stock', CASE WHEN x.in_stock THEN '1' END)
        ) AS k(facet, value)
        WHERE k.value IS NOT NULL AND (x.in_stock OR NOT st.in_stock_only)
        GROUP BY 1, 2, 3, 4
    """


def bucket_params() -> dict[str, list[str] | list[int]]:
    """Bucket keys and lower edges as `width_bucket` wants them (bucket 0 is the first)."""
    return {
        "bucket_keys": [bucket.key for bucket in PRICE_BUCKETS],
        "bucket_edges": [bucket.low_minor for bucket in PRICE_BUCKETS[1:]],
    }


async def reindex_products(session: AsyncSession, product_ids: Iterable[int]) -> None:
    """Bring these products' search documents and the facet counts up to date.

    Products gone or without variants leave the index. Call it in the transaction that
    changed them (or from a job after it): stock changes, edits, imports.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(:namespace, id) "
            "FROM (SELECT unnest(CAST(:ids AS integer[])) AS id ORDER BY 1) locked"
        ),
        {"namespace": _LOCK_NAMESPACE, "ids": ids},
    )
    # One statement, one snapshot: `old` sees the rows as they were before the upsert, so the
    # counts change by exactly (new - old). Sorted upserts lock counter rows in one order.
    await session.execute(
        text(
            f"""
            WITH RECURSIVE {_TREE},
            old AS (
                SELECT -1 AS sign, category_path, min_price_minor, attributes, in_stock
                FROM search_document WHERE product_id = ANY(CAST(:ids AS integer[]))
            ),
            fresh AS ({_DOCUMENTS} AND p.id = ANY(CAST(:ids AS integer[]))),
            upserted AS ({_UPSERT} RETURNING 1),
            removed AS (
                DELETE FROM search_document
                WHERE product_id = ANY(CAST(:ids AS integer[]))
                  AND product_id NOT IN (SELECT product_id FROM fresh)
                RETURNING 1
            ),
            changes AS (
                SELECT * FROM old
                UNION ALL
                SELECT 1, category_path, min_price_minor, attributes, in_stock FROM fresh
            ),
            delta AS ({_facet_keys("changes", "x.sign")})
            INSERT INTO search_facet_count AS c (scope_id, in_stock_only, facet, value, n)
            SELECT * FROM delta WHERE n <> 0 ORDER BY 1, 2, 3, 4
            ON CONFLICT (scope_id, in_stock_only, facet, value)
            DO UPDATE SET n = c.n + excluded.n
            """
        ),
        {"ids": ids, **bucket_params()},
    )
    # New title words become candidates for corrections at once.
    await session.execute(
        text(
            "INSERT INTO search_term (word, lexeme, frequency) "
            f"{_terms('p.id = ANY(CAST(:ids AS integer[]))')} ORDER BY 1 "
            "ON CONFLICT (word) DO NOTHING"
        ),
        {"ids": ids},
    )


async def reindex_all(session: AsyncSession) -> None:
    """Rebuild every search document and all facet counts from the catalog.

    Searches keep being answered from the old rows until the transaction commits; concurrent
    `reindex_products` calls wait for it.
    """
    await session.execute(text("LOCK TABLE search_document IN SHARE ROW EXCLUSIVE MODE"))
    # The GIN indexes run without a pending list (see migration 0003), which makes a bulk
    # load write them entry by entry: 2.5x slower at 100,000 products. For the bulk, let
    # entries queue and merge them in sorted batches, then switch back.
    for index in _GIN_INDEXES:
        await session.execute(text(f"ALTER INDEX {index} SET (fastupdate = on)"))
    # Rows go in category by category: a category's documents then share heap pages, which
    # halves the pages a category page or a search reads (measured: 1,215 rather than 4,405
    # pages for the 8,416 documents with "leather").
    await session.execute(
        text(
            f"WITH RECURSIVE {_TREE}, fresh AS ({_DOCUMENTS} ORDER BY t.path, p.created_at DESC) "
            f"{_UPSERT}"
        ),
    )
    for index in _GIN_INDEXES:
        await session.execute(text(f"SELECT gin_clean_pending_list('{index}'::regclass)"))
        await session.execute(text(f"ALTER INDEX {index} SET (fastupdate = off)"))
    await session.execute(
        text(
            "DELETE FROM search_document d WHERE NOT EXISTS "
            "(SELECT 1 FROM product_variant v WHERE v.product_id = d.product_id)"
        )
    )
    await session.execute(text("DELETE FROM search_facet_count"))
    await session.execute(
        text(
            "INSERT INTO search_facet_count (scope_id, in_stock_only, facet, value, n) "
            + _facet_keys("search_document", "1")
        ),
        bucket_params(),
    )
    await session.execute(text("ANALYZE search_document, search_facet_count"))


def _terms(products: str) -> str:
    """(word, lexeme, frequency) for the title and attribute words of these products, and the
    words of the category names: what shoppers type, spelt as the catalog spells it."""
    return f"""
        SELECT word, (tsvector_to_array(to_tsvector('english', word)))[1] AS lexeme,
               sum(n)::int AS frequency
        FROM (
            SELECT w.word, count(*) AS n
            FROM product p
            JOIN search_document d ON d.product_id = p.id
            CROSS JOIN LATERAL (
                SELECT DISTINCT word FROM regexp_split_to_table(search_fold(concat_ws(' ',
                    p.title,
                    (SELECT string_agg(a.value #>> '{{}}', ' ') FROM jsonb_each(p.attributes) a
                     WHERE jsonb_typeof(a.value) IN ('string', 'number'))
                )), '[^[:alnum:]]+') AS word
            ) w
            WHERE length(w.word) >= 2 AND {products}
            GROUP BY w.word
            UNION ALL
            SELECT word, 0
            FROM category c,
                 regexp_split_to_table(search_fold(c.name), '[^[:alnum:]]+') AS word
            WHERE length(word) >= 2
        ) words
        GROUP BY word
        HAVING (tsvector_to_array(to_tsvector('english', word)))[1] IS NOT NULL
    """


async def rebuild_terms(session: AsyncSession) -> None:
    """Rebuild the word list for typo correction and did-you-mean.

    Run it after `reindex_all`. `reindex_products` adds the words of the products it indexes
    but never removes one, so run this now and then (nightly) to drop words no product has.
    """
    await session.execute(text("DELETE FROM search_term"))
    await session.execute(
        text(f"INSERT INTO search_term (word, lexeme, frequency) {_terms('true')}")
    )
    await session.execute(text("ANALYZE search_term"))
