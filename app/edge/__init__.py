"""The edge cache: purging what changed, by surrogate key, through the outbox (docs/edge.md)."""
