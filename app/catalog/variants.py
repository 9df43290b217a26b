"""Choosing a variant from its options (size, colour…), and what each choice would lead to.

Pure functions over the variants `service.get_product` returns: no database, no HTTP. The product
page shows one group of choices per option dimension; every choice says whether picking it (with
the other dimensions as they are) gives a variant in stock, a sold-out one, or none at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from app.catalog.models import ImageView, VariantView

State = Literal["available", "sold_out", "unavailable"]
NOTES: dict[State, str] = {"available": "", "sold_out": "Sold out", "unavailable": "Unavailable"}
# Variants whose options do not tell them apart are offered by title, under this one dimension.
FALLBACK_DIMENSION = "option"
# Query parameters of the product page that can never be option names.
RESERVED = frozenset({"variant", "page"})


@dataclass(frozen=True)
class Choice:
    value: str
    state: State
    selected: bool
    input_id: str

    @property
    def note(self) -> str:
        return NOTES[self.state]


@dataclass(frozen=True)
class Dimension:
    name: str  # the option key, also the query parameter of the picker form
    label: str
    choices: list[Choice]


@dataclass(frozen=True)
class Selection:
    """The variant the page shows, or None when the chosen combination does not exist."""

    variant: VariantView | None
    chosen: dict[str, str]
    dimensions: list[Dimension]
    from_options: bool  # chosen through option parameters (the picker form), not `?variant=`

    @property
    def summary(self) -> str:
        """The chosen combination in words: `M / Navy`."""
        return " / ".join(self.chosen.values())

    @property
    def reason(self) -> str:
        """Why the shown combination cannot be bought; empty when it can."""
        if self.variant is None:
            return f"{self.summary or 'This product'} is not available. Choose another option."
        if self.variant.stock <= 0:
            return f"{self.summary} is sold out. Choose another option."
        return ""


def option_values(variants: Sequence[VariantView]) -> list[dict[str, str]]:
    """Each variant's choices as strings, in variant order.

    Variants normally differ by their `options`. Where they do not (no options, or two variants
    with the same ones), each is offered under its title instead, so every variant stays
    reachable.
    """
    values = [{str(k): str(v) for k, v in variant.options.items()} for variant in variants]
    keys = {tuple(sorted(choice.items())) for choice in values}
    if all(values) and len(keys) == len(values):
        return values
    titles = [variant.title for variant in variants]
    if len(set(titles)) < len(titles):
        titles = [f"{variant.title} ({variant.sku})" for variant in variants]
    return [{FALLBACK_DIMENSION: title} for title in titles]


def default_variant(variants: Sequence[VariantView]) -> VariantView | None:
    """The first variant in stock, else the first one."""
    return next((v for v in variants if v.stock > 0), variants[0] if variants else None)


def parse_variant_id(raw: str | None) -> int | None:
    if raw is None or not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


def select_variant(
    variants: Sequence[VariantView], *, variant_id: str | None, options: Mapping[str, str]
) -> Selection:
    """Resolve the page's query: option parameters win, then `?variant=`, then the default.

    An unknown variant id or option value falls back quietly (it may come from an old link).
    Options naming a combination no variant has give a Selection without a variant.
    """
    values = option_values(variants)
    names = _dimension_names(values)
    wanted = parse_variant_id(variant_id)
    base = next((v for v in variants if v.id == wanted), None) or default_variant(variants)
    chosen = dict(values[variants.index(base)]) if base is not None else {}
    given = {
        name: options[name]
        for name in names
        if name not in RESERVED and options.get(name) in _values_of(values, name)
    }
    merged = {**chosen, **given}
    chosen = {name: merged[name] for name in names if name in merged}
    variant = base
    if given:
        found = _match(values, chosen)
        variant = variants[found] if found is not None else None
    dimensions = [
        Dimension(
            name=name,
            label=name.replace("_", " ").capitalize(),
            choices=[
                Choice(
                    value=value,
                    state=_state(variants, values, {**chosen, name: value}),
                    selected=chosen.get(name) == value,
                    input_id=f"option-{d}-{v}",
                )
                for v, value in enumerate(_values_of(values, name))
            ],
        )
        for d, name in enumerate(names)
    ]
    return Selection(variant, chosen, dimensions, from_options=bool(given))


def images_for(images: Sequence[ImageView], selection: Selection) -> list[ImageView]:
    """The product's images with the chosen variant's photo first.

    Variants have no images of their own yet: by convention the n-th colour (or value of the
    first dimension, when there is no colour) shows the n-th photo, wrapping around.
    """
    if len(images) < 2 or not selection.dimensions:
        return list(images)
    dimension = next(
        (d for d in selection.dimensions if d.name in {"colour", "color"}), selection.dimensions[0]
    )
    position = next((i for i, c in enumerate(dimension.choices) if c.selected), 0)
    first = position % len(images)
    return [*images[first:], *images[:first]]


def _dimension_names(values: Sequence[Mapping[str, str]]) -> list[str]:
    return list(dict.fromkeys(name for choice in values for name in choice))


def _values_of(values: Sequence[Mapping[str, str]], name: str) -> list[str]:
    return list(dict.fromkeys(choice[name] for choice in values if name in choice))


def _match(values: Sequence[Mapping[str, str]], chosen: Mapping[str, str]) -> int | None:
    return next((i for i, choice in enumerate(values) if choice == chosen), None)


def _state(
    variants: Sequence[VariantView], values: Sequence[Mapping[str, str]], chosen: Mapping[str, str]
) -> State:
    found = _match(values, chosen)
    if found is None:
        return "unavailable"
    return "sold_out" if variants[found].stock <= 0 else "available"
