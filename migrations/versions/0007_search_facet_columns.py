"""Search: facet values as plain columns beside the attributes they come from.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys of app.search.models.ATTRIBUTE_FACETS, spelt out: a migration must not change when
# the code does.
FACET_KEYS = ("material", "colour_family", "brand")


def upgrade() -> None:
    # Counting facets reads these for every matching document (8,000 for "leather"); pulling
    # them out of jsonb each time cost a fifth of the statement. Generated columns stay exact
    # whichever way a document is written, so the indexer needs no change.
    for key in FACET_KEYS:
        op.add_column(
            "search_document",
            sa.Column(key, sa.Text(), sa.Computed(f"attributes ->> '{key}'", persisted=True)),
        )


def downgrade() -> None:
    for key in FACET_KEYS:
        op.drop_column("search_document", key)
