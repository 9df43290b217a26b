"""The demo catalog: departments, products, variants, stock and shared generated images.

Rows are a pure function of `seed` and the product id (each product draws from its own
`random.Random`), so the same seed always gives the same catalog, and a smaller catalog is the
first products of a larger one. Everything goes in through COPY in one transaction.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tqdm import tqdm

from app.catalog.images import SIZE, Design, design_pool, write_designs

BATCH_SIZE = 5_000
FEATURED_FIRST = 12
SALE_SHARE = 0.12  # of products, with every variant marked down
STAFF_PICKS = 12
# created_at counts back from here: product 1 is the newest, ten minutes or so per product.
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)

Row = tuple[Any, ...]


class SeedError(RuntimeError):
    """The database is not in a state the demo catalog can be seeded into."""


@dataclass(frozen=True)
class SeedReport:
    categories: int
    products: int
    variants: int
    images: int
    files_written: int
    seconds: float


@dataclass(frozen=True)
class _Department:
    name: str
    kind: str  # which image designs its products use
    description: str
    adjectives: tuple[str, ...]
    size_key: str  # "" when colour is the only option
    sizes: tuple[str, ...]
    size_premium: float  # each step up in size costs this much more
    prices: tuple[int, int]  # whole currency units
    phrases: tuple[str, ...]
    subcategories: tuple[tuple[str, str, str], ...]  # name, "noun|…", "material|…"


def _department(name: str, kind: str, description: str, adjectives: str, sizes: str,
                prices: tuple[int, int], phrases: str, *subcategories: tuple[str, str, str],
                size_key: str = "size", size_premium: float = 0.0) -> _Department:  # fmt: skip
    return _Department(
        name, kind, description, tuple(adjectives.split("|")), size_key if sizes else "",
        tuple(sizes.split("|")) if sizes else (), size_premium, prices,
        tuple(phrases.split("|")), subcategories,
    )  # fmt: skip


DEPARTMENTS = (
    _department(
        "Clothing", "shirt", "Everyday layers in natural fibres, cut to last.",
        "Classic|Relaxed|Slim|Everyday|Heavyweight|Lightweight|Essential|Boxy|Vintage",
        "XS|S|M|L|XL|XXL", (19, 149),
        "Cut for an easy fit that layers well.|Pre-washed, so it keeps its shape.|"
        "Soft from the first wear and better with every wash.|Finished with flat seams.",
        ("Knitwear", "Sweater|Cardigan|Crew Sweater|Turtleneck|Half-Zip",
         "Merino|Lambswool|Cashmere|Cotton|Alpaca"),
        ("Shirts", "Oxford Shirt|Overshirt|Shirt|Polo Shirt", "Cotton|Linen|Flannel|Chambray"),
        ("T-Shirts", "Tee|Pocket Tee|Long-Sleeve Tee|Tank Top", "Organic Cotton|Cotton|Hemp"),
        ("Jackets", "Jacket|Parka|Bomber|Gilet|Chore Coat", "Waxed Cotton|Wool|Nylon|Denim"),
        ("Trousers", "Chinos|Joggers|Trousers|Shorts", "Cotton Twill|Corduroy|Denim|Linen"),
    ),
    _department(
        "Shoes", "shoe", "Shoes and boots made for walking, all year round.",
        "Classic|Low|High|Everyday|Lightweight|Rugged|Minimal|Retro",
        "37|38|39|40|41|42|43|44|45|46", (39, 229),
        "Cushioned insole for all-day comfort.|Resoleable, so it can last for years.|"
        "Grippy rubber outsole.|Runs true to size.",
        ("Sneakers", "Sneaker|Runner|Court Shoe|Trainer", "Leather|Canvas|Suede|Knit"),
        ("Boots", "Chelsea Boot|Hiking Boot|Chukka Boot|Ankle Boot",
         "Leather|Suede|Waxed Leather|Nubuck"),
        ("Sandals", "Sandal|Slide|Espadrille", "Leather|Cork|Rubber|Canvas"),
        ("Dress Shoes", "Loafer|Derby|Oxford|Brogue", "Leather|Suede|Patent Leather"),
        ("Slippers", "Slipper|Mule|Moccasin", "Wool|Shearling|Felt|Suede"),
    ),
    _department(
        "Home", "lamp", "Lighting, textiles and small things that make a room.",
        "Classic|Modern|Rustic|Minimal|Handmade|Nordic|Soft|Round",
        "Small|Medium|Large", (9, 249),
        "Made in small batches by hand.|Fits both modern and traditional rooms.|"
        "Each piece varies slightly, which is part of its charm.|Easy to wipe clean.",
        ("Lighting", "Table Lamp|Floor Lamp|Pendant Light|Desk Lamp",
         "Brass|Ceramic|Rattan|Linen|Oak"),
        ("Textiles", "Cushion Cover|Throw|Blanket|Rug", "Linen|Wool|Cotton|Velvet|Jute"),
        ("Decor", "Vase|Candle Holder|Mirror|Planter|Tray", "Ceramic|Glass|Brass|Stoneware"),
        ("Storage", "Basket|Storage Box|Shelf|Hook Rail", "Seagrass|Oak|Walnut|Steel|Rattan"),
        size_premium=0.3,
    ),
    _department(
        "Kitchen", "mug", "Cookware and tableware for every day and for guests.",
        "Classic|Everyday|Glazed|Speckled|Professional|Stackable|Nordic|Rustic",
        "Single|Set of 2|Set of 4", (5, 179),
        "Dishwasher safe.|Oven safe up to 220 °C.|Works on every hob, induction included.|"
        "Stacks neatly in the cupboard.",
        ("Tableware", "Mug|Plate|Bowl|Serving Platter|Espresso Cup",
         "Stoneware|Porcelain|Ceramic|Enamel"),
        ("Cookware", "Frying Pan|Saucepan|Casserole|Wok|Grill Pan",
         "Cast Iron|Stainless Steel|Copper|Carbon Steel"),
        ("Utensils", "Chef's Knife|Spatula|Cutting Board|Whisk|Ladle",
         "Olive Wood|Beech|Stainless Steel|Bamboo"),
        ("Glassware", "Tumbler|Wine Glass|Carafe|Jug", "Crystal|Borosilicate|Hand-Blown|Smoked"),
        ("Coffee & Tea", "Teapot|Pour-Over Set|French Press|Kettle",
         "Ceramic|Glass|Stainless Steel|Cast Iron"),
        size_key="set", size_premium=0.7,
    ),
    _department(
        "Outdoor", "tent", "Gear for the garden, the trail and the campsite.",
        "Compact|Packable|Rugged|Lightweight|All-Weather|Folding|Trail|Classic",
        "Small|Medium|Large", (9, 249),
        "Packs down small.|Tested in wind and rain.|Repairable, with spare parts available.|"
        "Weather resistant and UV stable.",
        ("Camping", "Tent|Sleeping Bag|Camping Stool|Lantern|Hammock",
         "Ripstop|Nylon|Canvas|Aluminium"),
        ("Hiking", "Backpack|Daypack|Trekking Poles|Water Bottle",
         "Ripstop|Recycled Nylon|Aluminium|Cordura"),
        ("Garden", "Planter|Garden Chair|Watering Can|Bird Feeder|Parasol",
         "Teak|Galvanised Steel|Terracotta|Acacia"),
        ("Rainwear", "Rain Jacket|Poncho|Rain Trousers|Bucket Hat",
         "Waxed Cotton|Recycled Polyester|Waterproof Nylon"),
        size_premium=0.2,
    ),
    _department(
        "Accessories", "bag", "Bags, hats and the small things you carry every day.",
        "Classic|Everyday|Slim|Soft|Structured|Minimal|Travel|Vintage", "", (5, 149),
        "Ages beautifully with use.|Lined with recycled cotton.|"
        "Sized for everyday essentials.|Comes in a reusable cotton pouch.",
        ("Bags", "Tote|Backpack|Crossbody Bag|Weekender", "Leather|Canvas|Waxed Canvas|Nylon"),
        ("Wallets", "Wallet|Card Holder|Coin Purse|Key Ring", "Leather|Suede|Canvas"),
        ("Hats", "Beanie|Cap|Bucket Hat|Fedora", "Wool|Cotton|Cashmere|Straw"),
        ("Scarves", "Scarf|Bandana|Snood|Shawl", "Wool|Silk|Cashmere|Linen"),
    ),
)  # fmt: skip

# Shipping weight, packed, of one unit in the smallest size: a range per subcategory, and how
# much heavier each size step up is (a set of 4 mugs weighs about four times one mug).
SUBCATEGORY_GRAMS: dict[str, tuple[int, int]] = {
    "Knitwear": (350, 800), "Shirts": (200, 400), "T-Shirts": (120, 260), "Jackets": (600, 1800),
    "Trousers": (350, 800), "Sneakers": (700, 1100), "Boots": (1100, 1900),
    "Sandals": (300, 700), "Dress Shoes": (800, 1300), "Slippers": (250, 600),
    "Lighting": (900, 6500), "Textiles": (300, 4500), "Decor": (250, 3000),
    "Storage": (400, 6000), "Tableware": (250, 900), "Cookware": (1200, 4500),
    "Utensils": (80, 900), "Glassware": (200, 1200), "Coffee & Tea": (400, 2000),
    "Camping": (500, 4500), "Hiking": (250, 1600), "Garden": (600, 9000),
    "Rainwear": (250, 900), "Bags": (300, 1500), "Wallets": (40, 200), "Hats": (60, 250),
    "Scarves": (80, 350),
}  # fmt: skip
WEIGHT_PER_SIZE_STEP = {
    "Clothing": 0.06, "Shoes": 0.03, "Home": 0.6, "Kitchen": 1.5, "Outdoor": 0.4,
    "Accessories": 0.0,
}  # fmt: skip

COLOURS = (
    ("Navy", "blue"), ("Black", "black"), ("Charcoal", "grey"), ("Oatmeal", "neutral"),
    ("Sage", "green"), ("Olive", "green"), ("Rust", "orange"), ("Mustard", "yellow"),
    ("Cream", "white"), ("Burgundy", "red"), ("Sky", "blue"), ("Sand", "neutral"),
    ("Terracotta", "orange"), ("Rose", "pink"), ("Forest", "green"), ("White", "white"),
)  # fmt: skip
BRANDS = (
    "Northwind", "Hollow Pine", "Field & Fold", "Atelier Nord", "Kestrel", "Marlow & Co",
    "Tidewater", "Oakhaven", "Lumen", "Greywell", "Sorrel", "Brightwater",
)  # fmt: skip
COLOUR_FAMILIES = dict(COLOURS)
ORIGINS = ("Portugal", "Italy", "Spain", "Lithuania", "Japan", "Denmark", "Turkey", "India")
CLOSINGS = ("Ships in recycled packaging.", "Free returns within 30 days.", "")
VIEWS = ("front view", "side view", "detail")


@dataclass(frozen=True)
class _Subcategory:
    id: int
    department: _Department
    nouns: tuple[str, ...]
    materials: tuple[str, ...]
    image_stems: tuple[str, ...]
    grams: tuple[int, int]  # SUBCATEGORY_GRAMS


_COLUMNS = {
    "category": "id, parent_id, slug, name, description, position",
    "product": "id, slug, title, description, category_id, attributes, is_featured, created_at",
    "product_variant": (
        "id, product_id, sku, title, options, price_minor, compare_at_minor, currency, position, "
        "weight_grams"
    ),
    "product_image": "id, product_id, position, stem, alt, width, height",
    "stock_level": "variant_id, on_hand",
}
Batch = dict[str, list[Row]]  # rows by table, in _COLUMNS order


def slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower().replace("&", "and")).strip("-")


def _category_tree(pool: Sequence[Design]) -> tuple[list[Row], list[_Subcategory]]:
    """Departments get ids 1..6 and their subcategories follow; products go in subcategories."""
    rows: list[Row] = []
    subcategories = []
    next_id = len(DEPARTMENTS) + 1
    for position, department in enumerate(DEPARTMENTS):
        department_id = position + 1
        name, description = department.name, department.description
        rows.append((department_id, None, slugify(name), name, description, position))
        stems = tuple(f"products/{d.stem}" for d in pool if d.kind == department.kind)
        for sub_position, (name, nouns, materials) in enumerate(department.subcategories):
            description = f"{name} from our {department.name.lower()} department."
            rows.append((next_id, department_id, slugify(name), name, description, sub_position))
            words = tuple(nouns.split("|")), tuple(materials.split("|"))
            grams = SUBCATEGORY_GRAMS[name]
            subcategories.append(_Subcategory(next_id, department, *words, stems, grams))
            next_id += 1
    return rows, subcategories


def _variant_options(rng: Random, department: _Department, at_least: int) -> list[dict[str, str]]:
    """Sizes by colours (at most 3 by 2), or colours alone where a department has no sizes."""
    if not department.sizes:
        count = max(at_least, rng.choice((1, 1, 2, 2, 3, 4, 5, 6)))
        return [{"colour": name} for name, _ in rng.sample(COLOURS, count)]
    colours = [name for name, _ in rng.sample(COLOURS, 1 if rng.random() < 0.6 else 2)]
    size_count = max(rng.randint(1, 3), -(-at_least // len(colours)))
    first = rng.randrange(len(department.sizes) - size_count + 1)
    sizes = department.sizes[first : first + size_count]
    return [{department.size_key: size, "colour": colour} for colour in colours for size in sizes]


def _on_hand(rng: Random) -> int:
    roll = rng.random()
    if roll < 0.10:
        return 0
    if roll < 0.18:
        return rng.randint(1, 5)
    return rng.randint(6, 120)


def _add_product(
    batch: Batch,
    seed: int,
    product_id: int,
    variant_id: int,
    image_id: int,
    subcategories: Sequence[_Subcategory],
    currency: str,
) -> tuple[int, int]:
    """Append one product's rows; return the last variant id and image id used."""
    rng = Random(f"{seed}/{product_id}")
    sub = rng.choice(subcategories)
    department = sub.department
    noun, material, brand = rng.choice(sub.nouns), rng.choice(sub.materials), rng.choice(BRANDS)
    adjective = rng.choice(department.adjectives) if rng.random() < 0.7 else ""
    title = " ".join(word for word in (adjective, material, noun) if word)
    article = "An" if title[0] in "AEIOU" else "A"
    sentences = [
        f"{article} {title.lower()} by {brand}.",
        rng.choice(department.phrases),
        rng.choice(CLOSINGS),
    ]
    options = _variant_options(rng, department, at_least=2 if product_id == 1 else 1)
    attributes = {
        "brand": brand,
        "material": material,
        "colour_family": COLOUR_FAMILIES[options[0]["colour"]],
        "origin": rng.choice(ORIGINS),
    }
    created_at = BASE_TIME - timedelta(seconds=product_id * 600 + rng.randrange(600))
    featured = product_id <= FEATURED_FIRST or rng.random() < 0.02
    batch["product"].append(
        (
            product_id,
            f"{slugify(title)}-{product_id}",
            title,
            " ".join(s for s in sentences if s),
            sub.id,
            json.dumps(attributes),
            featured,
            created_at,
        )
    )

    # Bigger sizes cost more; the base price leaves room for the largest one offered.
    key = department.size_key
    steps = [department.sizes.index(option[key]) if key else 0 for option in options]
    low, high = department.prices
    ceiling = int(high / (1 + department.size_premium * max(steps)))
    base = max(low, min(ceiling, int(low * (high / low) ** rng.random())))
    cents_off = rng.choice((1, 1, 1, 0))  # most prices end in .99, some in .00
    stock = [_on_hand(rng) for _ in options]
    if product_id == 1 and not any(stock):
        stock[0] = 24
    # Drawn apart from the product's own generator, so sales leave the rest of the row alone.
    sale = Random(f"{seed}/{product_id}/sale")
    markup = sale.choice((1.25, 1.33, 1.5)) if sale.random() < SALE_SHARE else None
    # Its own generator too, so weights left the rows seeded before them unchanged.
    grams = Random(f"{seed}/{product_id}/weight").randint(*sub.grams)
    per_step = WEIGHT_PER_SIZE_STEP[department.name]
    for position, (option, step, on_hand) in enumerate(zip(options, steps, stock, strict=True)):
        variant_id += 1
        price = round(base * (1 + department.size_premium * step)) * 100 - cents_off
        compare_at = max(round(price * markup / 100) * 100, price + 100) if markup else None
        batch["product_variant"].append(
            (
                variant_id,
                product_id,
                f"EC-{product_id:06d}-{position + 1:02d}",
                " / ".join(option.values()),
                json.dumps(option),
                price,
                compare_at,
                currency,
                position,
                round(grams * (1 + per_step * step) / 10) * 10,
            )
        )
        batch["stock_level"].append((variant_id, on_hand))

    count = rng.choice((1, 2, 2, 3))
    for position, stem in enumerate(rng.sample(sub.image_stems, count)):
        image_id += 1
        alt = f"{title}, {VIEWS[position]}"
        batch["product_image"].append((image_id, product_id, position, stem, alt, SIZE, SIZE))
    return variant_id, image_id


def _batches(
    seed: int, products: int, currency: str, subcategories: Sequence[_Subcategory]
) -> Iterator[Batch]:
    variant_id = image_id = 0
    for start in range(1, products + 1, BATCH_SIZE):
        batch: Batch = {table: [] for table in _COLUMNS if table != "category"}
        for product_id in range(start, min(start + BATCH_SIZE, products + 1)):
            variant_id, image_id = _add_product(
                batch, seed, product_id, variant_id, image_id, subcategories, currency
            )
        yield batch


async def _copy(cursor: psycopg.AsyncCursor[Any], table: str, rows: list[Row]) -> None:
    async with cursor.copy(f"COPY {table} ({_COLUMNS[table]}) FROM STDIN") as copy:
        for row in rows:
            await copy.write_row(row)


async def _copy_all(
    driver: psycopg.AsyncConnection[Any],
    category_rows: list[Row],
    batches: Iterator[Batch],
    advance: Callable[[int], object],
) -> tuple[int, int]:
    """COPY every row in, set the sequences past the explicit ids; return variants, images."""
    variants = images = 0
    async with driver.cursor() as cursor:
        await _copy(cursor, "category", category_rows)
        for batch in batches:
            for table, rows in batch.items():
                await _copy(cursor, table, rows)
            variants += len(batch["product_variant"])
            images += len(batch["product_image"])
            advance(len(batch["product"]))
        for table in ("category", "product", "product_variant", "product_image"):
            await cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        await _add_collections(cursor)
        # Fresh statistics, so the first page views get sensible plans without waiting.
        await cursor.execute(
            "ANALYZE category, product, product_variant, product_image, stock_level"
        )
    return variants, images


async def _add_collections(cursor: psycopg.AsyncCursor[Any]) -> None:
    """Two collections by rule and one hand-picked, spread over the whole catalog."""
    await cursor.execute(
        "INSERT INTO collection (id, slug, title, description, rule, position) VALUES "
        "(1, 'new-in', 'New in', 'The newest arrivals, freshest first.', 'newest', 0), "
        "(2, 'sale', 'Sale', 'Marked down for a little while.', 'on_sale', 1), "
        "(3, 'staff-picks', 'Staff picks', 'Things we use ourselves.', NULL, 2)"
    )
    await cursor.execute(
        "INSERT INTO collection_product (collection_id, product_id, position) "
        "SELECT 3, id, row_number() OVER (ORDER BY id) FROM product "
        "WHERE id %% greatest(1, (SELECT count(*) FROM product) / %s) = 0 ORDER BY id LIMIT %s",
        (STAFF_PICKS, STAFF_PICKS),
    )
    await cursor.execute("SELECT setval(pg_get_serial_sequence('collection', 'id'), 4, false)")


async def _require_empty(connection: AsyncConnection) -> None:
    # Two seeds at once would both see an empty table; this lock makes the second one wait.
    await connection.execute(text("LOCK TABLE category, product IN SHARE ROW EXCLUSIVE MODE"))
    if await connection.scalar(text("SELECT EXISTS (SELECT 1 FROM product)")):
        raise SeedError("the catalog already has products; seed an empty database")
    if await connection.scalar(text("SELECT EXISTS (SELECT 1 FROM category)")):
        raise SeedError("the catalog already has categories; seed an empty database")


async def seed_catalog(
    engine: AsyncEngine,
    *,
    products: int,
    media_dir: Path,
    currency: str = "EUR",
    seed: int = 1,
    progress: bool = False,
) -> SeedReport:
    """Fill an empty, migrated database with a demo catalog and write its images.

    One transaction: either the whole catalog is there or none of it. Image files are shared,
    named by content and skipped when present, so they may outlive a failed seed harmlessly.
    """
    if products < 1:
        raise ValueError("products must be at least 1")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"currency must be three capital letters, not {currency!r}")
    started = time.perf_counter()
    pool = design_pool()
    category_rows, subcategories = _category_tree(pool)
    async with engine.begin() as connection:
        await _require_empty(connection)
        driver = (await connection.get_raw_connection()).driver_connection
        if not isinstance(driver, psycopg.AsyncConnection):
            raise SeedError("seeding needs the psycopg 3 async driver (postgresql+psycopg://)")
        # Pillow draws in threads (it releases the GIL) while this task feeds COPY.
        files = asyncio.create_task(asyncio.to_thread(write_designs, pool, media_dir / "products"))
        try:
            with tqdm(total=products, unit="product", file=sys.stderr, disable=not progress) as bar:
                batches = _batches(seed, products, currency, subcategories)
                variants, images = await _copy_all(driver, category_rows, batches, bar.update)
        finally:
            await asyncio.wait([files])  # threads cannot be cancelled; let them finish
        # Inside the transaction: rows never point at images that failed to be written.
        files_written = files.result()
    return SeedReport(
        categories=len(category_rows),
        products=products,
        variants=variants,
        images=images,
        files_written=files_written,
        seconds=round(time.perf_counter() - started, 2),
    )
