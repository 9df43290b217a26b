"""Stripe's request bodies: form-encoded with nested keys (`a[b][0][c]=v`)."""

from __future__ import annotations

import re
from typing import Any

_PART = re.compile(r"\[([^\[\]]*)\]")


def _listify(value: Any) -> Any:
    """Dicts whose keys are all 0, 1, 2 … become lists (how Stripe's arrays arrive)."""
    if not isinstance(value, dict):
        return value
    items = {key: _listify(inner) for key, inner in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def parse_nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """[("line_items[0][quantity]", "1"), ("expand[]", "x")] → nested dicts and lists."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        path = [head, *_PART.findall("[" + rest)] if rest else [head]
        node = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":  # "expand[]": append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ValueError(f"conflicting keys at {raw_key!r}")
                node = child
    result: dict[str, Any] = _listify(root)
    return result
