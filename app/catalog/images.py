"""Product images drawn with Pillow: a small pool of designs that demo products share.

A design is a soft background with one simple silhouette (a shirt, a shoe, a lamp…). Its file
names carry a hash of its parameters, so a changed design gets new names and the files can be
served as immutable. Files are written once and skipped when they already exist.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass
from io import BytesIO
from math import cos, radians, sin
from pathlib import Path

from PIL import Image, ImageDraw

# Bump when the drawing code changes, so every design gets new file names.
RENDER_VERSION = 1
KINDS = ("shirt", "shoe", "lamp", "mug", "tent", "bag")
WIDTHS = (320, 640, 960)
SIZE = WIDTHS[-1]
# Drawn at 1920 px and box-reduced by 2, 3 and 6: smooth edges, and much cheaper than Lanczos.
_CANVAS = 1920
# Encoder settings are part of every file name too: new settings, new bytes, new names.
WEBP_OPTIONS = (("quality", 80), ("method", 2))  # method 2: half the time of 4, ~10 % larger
JPEG_OPTIONS = (("quality", 82), ("progressive", True), ("optimize", True))

RGB = tuple[int, int, int]
Point = tuple[float, float]

_BACKGROUNDS: tuple[RGB, ...] = (
    (244, 236, 225), (231, 240, 236), (236, 238, 246), (248, 233, 230),
    (240, 236, 246), (246, 242, 222), (228, 238, 242), (242, 240, 236),
)  # fmt: skip
_COLOURS: tuple[RGB, ...] = (
    (38, 58, 94), (176, 92, 66), (112, 140, 110), (214, 164, 62), (60, 64, 70),
    (196, 120, 132), (44, 120, 128), (120, 86, 140), (150, 110, 80), (90, 110, 150),
)  # fmt: skip
_ACCENTS: tuple[RGB, ...] = ((250, 250, 246), (236, 200, 120), (34, 34, 38), (214, 96, 78))

# Silhouettes in a 0..100 square, centred near (50, 52).
_SHAPES: dict[str, tuple[tuple[Point, ...], ...]] = {
    "shirt": (
        ((40, 22), (28, 25), (14, 42), (22, 49), (31, 41), (31, 80), (69, 80), (69, 41),
         (78, 49), (86, 42), (72, 25), (60, 22), (50, 29)),
    ),
    "shoe": (
        ((24, 42), (20, 52), (18, 64), (84, 64), (86, 58), (80, 53), (62, 49), (50, 38),
         (36, 40)),
    ),
    "lamp": (((35, 20), (65, 20), (76, 48), (24, 48)), ((48, 48), (52, 48), (52, 74), (48, 74))),
    "mug": (((30, 30), (66, 30), (64, 78), (32, 78)),),
    "tent": (((18, 76), (50, 22), (82, 76)),),
    "bag": (((26, 40), (74, 40), (79, 80), (21, 80)),),
}  # fmt: skip
_ACCENT_SHAPES: dict[str, tuple[tuple[Point, ...], ...]] = {
    "shirt": (((31, 73), (69, 73), (69, 80), (31, 80)),),
    "shoe": (((17, 63), (86, 63), (86, 70), (17, 70)),),
    "lamp": (((34, 22), (66, 22), (67, 25), (33, 25)),),
    "mug": (((31, 44), (65.5, 44), (65, 52), (31.5, 52)),),
    "tent": (((41, 76), (50, 54), (59, 76)),),
    "bag": (((36, 54), (64, 54), (64, 66), (36, 66)),),
}  # fmt: skip


@dataclass(frozen=True)
class Design:
    number: int
    kind: str
    background: RGB
    colour: RGB
    accent: RGB
    scale_percent: int
    tilt_degrees: int
    backdrop: int

    @property
    def stem(self) -> str:
        """`d<NN>-<hash>`: the hash covers the parameters, drawing version and encoder settings."""
        settings = (RENDER_VERSION, WEBP_OPTIONS, JPEG_OPTIONS, astuple(self))
        digest = hashlib.sha256(repr(settings).encode()).hexdigest()
        return f"d{self.number:02d}-{digest[:10]}"


def design_pool(per_kind: int = 8) -> tuple[Design, ...]:
    """The shared designs, `per_kind` of each kind, numbered kind by kind. Always the same."""
    designs = []
    for k, kind in enumerate(KINDS):
        for i in range(per_kind):
            rng = random.Random(f"design/{kind}/{i}")
            designs.append(
                Design(
                    number=k * per_kind + i,
                    kind=kind,
                    background=_BACKGROUNDS[(i + k) % len(_BACKGROUNDS)],
                    colour=_COLOURS[(i * 3 + k) % len(_COLOURS)],
                    accent=rng.choice(_ACCENTS),
                    scale_percent=rng.randrange(82, 100),
                    tilt_degrees=rng.randrange(-6, 7),
                    backdrop=rng.randrange(4),
                )
            )
    return tuple(designs)


def _shade(colour: RGB, factor: float) -> RGB:
    r, g, b = (min(255, round(c * factor)) for c in colour)
    return (r, g, b)


def _draw(design: Design) -> Image.Image:
    side = _CANVAS
    image = Image.new("RGB", (side, side), design.background)
    draw = ImageDraw.Draw(image)
    unit = side / 100

    # A few large soft circles behind the object; `backdrop` picks their arrangement.
    light = _shade(design.background, 1.03)
    for n in range(3):
        angle = radians(design.backdrop * 90 + n * 120)
        cx, cy, r = 50 + 34 * cos(angle), 50 + 34 * sin(angle), 18 + 7 * n
        draw.ellipse([(cx - r) * unit, (cy - r) * unit, (cx + r) * unit, (cy + r) * unit], light)

    scale = design.scale_percent / 100
    turn = radians(design.tilt_degrees)
    # A flat shadow right under the object's base (y = 80 before scaling, shoes are lower).
    base = (70 if design.kind == "shoe" else 80) - 52
    shadow = [50 - 32 * scale, 52 + (base - 3) * scale, 50 + 32 * scale, 52 + (base + 4) * scale]
    draw.ellipse([v * unit for v in shadow], _shade(design.background, 0.9))

    def place(points: Iterable[Point]) -> list[Point]:
        placed = []
        for x, y in points:
            dx, dy = (x - 50) * scale, (y - 52) * scale
            rx, ry = dx * cos(turn) - dy * sin(turn), dx * sin(turn) + dy * cos(turn)
            placed.append(((50 + rx) * unit, (52 + ry) * unit))
        return placed

    if design.kind == "mug":
        (x0, y0), (x1, y1) = place([(56, 38), (82, 68)])
        draw.ellipse([x0, y0, x1, y1], outline=design.colour, width=round(5 * unit * scale))
    if design.kind == "bag":
        (x0, y0), (x1, y1) = place([(36, 22), (64, 58)])
        draw.arc([x0, y0, x1, y1], 180, 360, design.colour, width=round(3 * unit * scale))
    if design.kind == "lamp":
        (x0, y0), (x1, y1) = place([(37, 71), (63, 78)])
        draw.ellipse([x0, y0, x1, y1], design.colour)
    for polygon in _SHAPES[design.kind]:
        draw.polygon(place(polygon), design.colour)
    for polygon in _ACCENT_SHAPES[design.kind]:
        draw.polygon(place(polygon), design.accent)
    return image


def files(design: Design) -> dict[str, tuple[int, str]]:
    """The design's file names, each with its width and format."""
    return {f"{design.stem}-{w}.{ext}": (w, ext) for w in WIDTHS for ext in ("webp", "jpg")}


def _encode(image: Image.Image, ext: str) -> bytes:
    buffer = BytesIO()
    if ext == "webp":
        image.save(buffer, "WEBP", **dict(WEBP_OPTIONS))
    else:
        image.save(buffer, "JPEG", **dict(JPEG_OPTIONS))
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    # A half-written file would be skipped forever by later runs, so write aside and rename.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_design(design: Design, directory: Path) -> int:
    """Write the design's missing files into `directory`; return how many were written."""
    missing = {
        name: spec for name, spec in files(design).items() if not (directory / name).exists()
    }
    if not missing:
        return 0
    full = _draw(design)
    sized = {width: full.reduce(_CANVAS // width) for width in WIDTHS}
    for name, (width, ext) in missing.items():
        _write_atomically(directory / name, _encode(sized[width], ext))
    return len(missing)


def write_designs(designs: Sequence[Design], directory: Path, *, workers: int = 2) -> int:
    """Write every design's missing files, `workers` at a time; return how many were written."""
    directory.mkdir(parents=True, exist_ok=True)
    # Threads, not processes: Pillow releases the GIL while it resamples and encodes, so two
    # threads are as fast as two processes here, without pickling or re-importing __main__.
    with ThreadPoolExecutor(max(1, workers)) as executor:
        return sum(executor.map(write_design, designs, [directory] * len(designs)))
