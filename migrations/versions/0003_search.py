"""Search: the search index (owned by app/search), its words and its facet counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # All three are "trusted" extensions: the database owner may create them, no superuser.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
    # unaccent() is only STABLE (its dictionary could change); pinning the dictionary makes a
    # function we may declare IMMUTABLE, so it can be used in indexes and generated values.
    op.execute(
        """
        CREATE FUNCTION search_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN lower(public.unaccent('public.unaccent'::regdictionary, value))
        """
    )
    op.create_table(
        "search_document",
        # Deferred, not cascading: whoever deletes a product calls reindex_products for it in
        # the same transaction, which also takes it out of the facet counts; forgetting to
        # fails the commit instead of leaving counts that no longer add up.
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("product.id", deferrable=True, initially="DEFERRED"),
            primary_key=True,
        ),
        sa.Column("title", sa.String(160), nullable=False),
        sa.Column("slug", sa.String(160), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("category_path", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("min_price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("in_stock", sa.Boolean(), nullable=False),
        sa.Column("attributes", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("search_vector", postgresql.TSVECTOR(), nullable=False),
    )
    # fastupdate off: with it on, recent changes wait in a pending list that every search must
    # read through until a vacuum merges it (measured: 1 ms index scans became 6-11 ms).
    # Writes are a few rows per reindex, so updating the index in place costs little.
    op.create_index(
        "ix_search_document_vector",
        "search_document",
        ["search_vector"],
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.create_index(
        "ix_search_document_category_path",
        "search_document",
        ["category_path"],
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.create_index(
        "ix_search_document_attributes",
        "search_document",
        ["attributes"],
        postgresql_using="gin",
        postgresql_ops={"attributes": "jsonb_path_ops"},
        postgresql_with={"fastupdate": "off"},
    )
    op.create_index(
        "ix_search_document_newest",
        "search_document",
        [sa.text("created_at DESC"), sa.text("product_id DESC")],
    )
    op.create_index(
        "ix_search_document_price", "search_document", ["min_price_minor", "product_id"]
    )

    op.create_table(
        "search_term",
        sa.Column("word", sa.Text(), primary_key=True),
        sa.Column("lexeme", sa.Text(), nullable=False),  # the word stemmed, as the index has it
        sa.Column("frequency", sa.Integer(), nullable=False),  # products that have it
    )
    op.create_index("ix_search_term_lexeme", "search_term", ["lexeme"])
    op.create_index(
        "ix_search_term_word_trgm",
        "search_term",
        ["word"],
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
        postgresql_with={"fastupdate": "off"},
    )
    # Short words: trigrams say little about "lanp" against "lamp", so near spellings that
    # start with the same letter are also compared by edit distance.
    op.create_index(
        "ix_search_term_initial_length",
        "search_term",
        [sa.text("left(word, 1)"), sa.text("length(word)")],
    )

    # PostgreSQL's default random_page_cost (4) prices a random read as on a spinning disk;
    # with the index in memory or on SSD it made the planner read all 100,000 documents
    # sequentially (66 ms) rather than through the GIN index (7 ms) for a word on 8% of them.
    # 1.1 is the usual SSD value. Needs the database's owner; a migration run by a lesser
    # role leaves the default and says so.
    op.execute(
        """
        DO $$
        BEGIN
            EXECUTE format('ALTER DATABASE %I SET random_page_cost = 1.1', current_database());
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'random_page_cost left at its default: not the database owner';
        END
        $$
        """
    )
    op.create_table(
        "search_facet_count",
        sa.Column("scope_id", sa.Integer(), nullable=False),  # a category id; 0 is everything
        sa.Column("in_stock_only", sa.Boolean(), nullable=False),
        sa.Column("facet", sa.String(20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope_id", "in_stock_only", "facet", "value"),
    )


def downgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            EXECUTE format('ALTER DATABASE %I RESET random_page_cost', current_database());
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END
        $$
        """
    )
    op.drop_table("search_facet_count")
    op.drop_table("search_term")
    op.drop_table("search_document")
    op.execute("DROP FUNCTION IF EXISTS search_fold(text)")
    # The extensions stay: other objects may have come to depend on them.
