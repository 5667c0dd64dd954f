"""Generate the shipped practice media: drawn PNG scenes and synthetic speech clips.

A content-authoring tool, not a runtime dependency. Needs Pillow (``pip install pillow``),
Debian's ``espeak-ng`` and ``sox``. Run from the repository root:

    .venv/bin/python scripts/generate_media.py

It writes ``assessments/media/images/*.png``, ``assessments/media/audio/*.wav`` and
``assessments/media/manifest.json``. Every labelled object is also painted into an object-id
mask, so the gold boxes in the manifest are the exact visible extent of what was drawn
(after occlusion by later shapes and clipping at the image border), never a guess.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "assessments" / "media"
W, H = 480, 320
RGB = tuple[int, int, int]

# ----------------------------------------------------------------------------- drawing


@dataclass
class Canvas:
    """An RGB picture plus an id mask painted with the same shapes."""

    img: Image.Image = field(default_factory=lambda: Image.new("RGB", (W, H), (200, 225, 245)))
    mask: Image.Image = field(default_factory=lambda: Image.new("I", (W, H), 0))
    oid: int = 0  # id painted into the mask; 0 = unlabelled background or distractor
    labels: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.d = ImageDraw.Draw(self.img)
        self.m = ImageDraw.Draw(self.mask)

    def begin(self, label: str | None, note: str = "") -> None:
        if label is None:
            self.oid = 0
            return
        self.oid = len(self.labels) + 1
        self.labels[self.oid] = label
        self.notes[self.oid] = note

    def rect(self, box: list[float], fill: RGB, radius: float = 0) -> None:
        box = [round(v) for v in box]
        if radius:
            self.d.rounded_rectangle(box, radius=round(radius), fill=fill)
            self.m.rounded_rectangle(box, radius=round(radius), fill=self.oid)
        else:
            self.d.rectangle(box, fill=fill)
            self.m.rectangle(box, fill=self.oid)

    def ellipse(
        self,
        box: list[float],
        fill: RGB | None = None,
        outline: RGB | None = None,
        width: float = 1,
    ) -> None:
        box = [round(v) for v in box]
        w = max(1, round(width))
        self.d.ellipse(box, fill=fill, outline=outline, width=w)
        self.m.ellipse(
            box, fill=self.oid if fill else None, outline=self.oid if outline else None, width=w
        )

    def poly(self, pts: list[tuple[float, float]], fill: RGB) -> None:
        pts = [(round(x), round(y)) for x, y in pts]
        self.d.polygon(pts, fill=fill)
        self.m.polygon(pts, fill=self.oid)

    def line(self, pts: list[tuple[float, float]], fill: RGB, width: float) -> None:
        pts = [(round(x), round(y)) for x, y in pts]
        self.d.line(pts, fill=fill, width=max(1, round(width)))
        self.m.line(pts, fill=self.oid, width=max(1, round(width)))

    def boxes(self) -> list[dict]:
        arr = np.asarray(self.mask)
        out = []
        for oid, label in self.labels.items():
            ys, xs = np.nonzero(arr == oid)
            if len(xs) == 0:
                continue  # fully hidden: nothing visible to box
            out.append(
                {
                    "label": label,
                    "box": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1],
                    "visible_px": len(xs),
                    "note": self.notes[oid],
                }
            )
        return out

    def save(self, path: Path) -> None:
        # Flat shapes only, so an adaptive 32-colour palette is lossless in practice and small.
        self.img.quantize(colors=32, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


# --------------------------------------------------------------------- street objects


def car(
    c: Canvas,
    x: float,
    yb: float,
    s: float,
    color: RGB,
    left: bool = False,
    label: str | None = "car",
    note: str = "",
) -> None:
    """A side-view car whose wheels touch y=yb; x is its left end."""
    c.begin(label, note)
    length = 120 * s

    def fx(dx: float) -> float:
        return x + (length - dx if left else dx)

    body_top, body_bot = yb - 40 * s, yb - 10 * s
    c.rect([x, body_top, x + length, body_bot], color, radius=8 * s)
    cab = [
        (fx(25 * s), body_top + 1),
        (fx(42 * s), body_top - 24 * s),
        (fx(88 * s), body_top - 24 * s),
        (fx(106 * s), body_top + 1),
    ]
    c.poly(cab, color)
    win = [
        (fx(32 * s), body_top - 1),
        (fx(46 * s), body_top - 19 * s),
        (fx(84 * s), body_top - 19 * s),
        (fx(98 * s), body_top - 1),
    ]
    c.poly(win, (170, 210, 235))
    c.rect(
        [fx(112 * s) - 4 * s, body_top + 6 * s, fx(112 * s) + 4 * s, body_top + 12 * s],
        (250, 240, 150),
    )
    for wx in (fx(26 * s), fx(94 * s)):
        c.ellipse([wx - 13 * s, yb - 26 * s, wx + 13 * s, yb], fill=(30, 30, 30))
        c.ellipse([wx - 5 * s, yb - 18 * s, wx + 5 * s, yb - 8 * s], fill=(150, 150, 150))


def person(
    c: Canvas,
    cx: float,
    yb: float,
    s: float,
    shirt: RGB,
    label: str | None = "person",
    note: str = "",
    walking: bool = True,
) -> None:
    """A standing or walking person, feet at y=yb, about 64*s tall."""
    c.begin(label, note)
    skin, trousers = (225, 185, 150), (50, 60, 90)
    leg_top = yb - 28 * s
    spread = 7 * s if walking else 3 * s
    c.line([(cx - 2 * s, leg_top), (cx - spread, yb)], trousers, 5 * s)
    c.line([(cx + 2 * s, leg_top), (cx + spread, yb)], trousers, 5 * s)
    c.rect([cx - 7 * s, yb - 50 * s, cx + 7 * s, leg_top + 2 * s], shirt, radius=3 * s)
    c.line([(cx - 6 * s, yb - 47 * s), (cx - 11 * s, yb - 31 * s)], shirt, 4 * s)
    c.line([(cx + 6 * s, yb - 47 * s), (cx + 11 * s, yb - 31 * s)], shirt, 4 * s)
    c.ellipse([cx - 7 * s, yb - 64 * s, cx + 7 * s, yb - 50 * s], fill=skin)


def bicycle(
    c: Canvas,
    x: float,
    yb: float,
    s: float,
    color: RGB = (200, 40, 40),
    label: str | None = "bicycle",
    note: str = "",
) -> None:
    """A side-view bicycle; x is the left edge of the rear wheel."""
    c.begin(label, note)
    r = 14 * s
    rear, front = (x + r, yb - r), (x + 62 * s - r, yb - r)
    for cx, cy in (rear, front):
        c.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(20, 20, 20), width=3 * s)
    crank = (x + 30 * s, yb - r)
    seat = (x + 24 * s, yb - 36 * s)
    head = (front[0] - 4 * s, yb - 38 * s)
    c.line([rear, crank, seat, rear], color, 2.5 * s)
    c.line([seat, head, crank], color, 2.5 * s)
    c.line([head, front], color, 2.5 * s)
    c.line(
        [(seat[0] - 5 * s, seat[1] - 2 * s), (seat[0] + 5 * s, seat[1] - 2 * s)],
        (20, 20, 20),
        3 * s,
    )
    c.line(
        [head, (head[0] + 2 * s, head[1] - 6 * s), (head[0] - 4 * s, head[1] - 7 * s)],
        (20, 20, 20),
        2.5 * s,
    )


def traffic_light(
    c: Canvas, x: float, yb: float, s: float, lit: str = "red", note: str = ""
) -> None:
    """A pole (unlabelled) with a lamp housing on top (labelled traffic_light)."""
    top = yb - 110 * s
    c.begin(None)
    c.line([(x, yb), (x, top + 40 * s)], (90, 90, 90), 4 * s)
    c.begin("traffic_light", note)
    c.rect([x - 9 * s, top, x + 9 * s, top + 46 * s], (35, 35, 35), radius=3 * s)
    colours = {"red": (230, 40, 40), "yellow": (240, 200, 40), "green": (40, 200, 80)}
    for i, name in enumerate(("red", "yellow", "green")):
        cy = top + 8 * s + i * 15 * s
        fill = colours[name] if name == lit else (80, 80, 80)
        c.ellipse([x - 5 * s, cy - 5 * s, x + 5 * s, cy + 5 * s], fill=fill)


def tree(c: Canvas, x: float, yb: float, s: float) -> None:
    c.begin(None)
    c.rect([x - 5 * s, yb - 50 * s, x + 5 * s, yb], (110, 75, 40))
    c.ellipse([x - 28 * s, yb - 100 * s, x + 28 * s, yb - 40 * s], fill=(60, 140, 60))


def bin_(c: Canvas, x: float, yb: float, s: float) -> None:
    c.begin(None)
    c.rect([x, yb - 26 * s, x + 16 * s, yb], (60, 110, 70), radius=2 * s)


def poster_person(c: Canvas, x: float, y: float) -> None:
    """An advertising poster that shows a person: a depiction, not an object to box."""
    c.begin(None)
    c.rect([x, y, x + 44, y + 62], (245, 240, 220))
    c.rect([x + 3, y + 3, x + 41, y + 59], (250, 200, 120))
    c.ellipse([x + 16, y + 8, x + 28, y + 20], fill=(225, 185, 150))
    c.rect([x + 14, y + 20, x + 30, y + 46], (60, 90, 200), radius=2)
    c.rect([x + 6, y + 49, x + 38, y + 55], (40, 40, 40))


def street_background(c: Canvas, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c.begin(None)
    c.rect([0, 0, W, 200], (200, 225, 245))
    x = 0
    while x < W:
        bw = int(rng.integers(60, 120))
        bh = int(rng.integers(70, 150))
        tone = int(rng.integers(120, 190))
        c.rect([x, 190 - bh, x + bw - 4, 190], (tone, tone - 20, tone - 40))
        for wy in range(190 - bh + 10, 180, 22):
            for wx in range(x + 8, x + bw - 16, 20):
                c.rect([wx, wy, wx + 10, wy + 12], (230, 230, 200))
        x += bw
    c.rect([0, 185, W, 210], (190, 190, 185))
    c.rect([0, 210, W, H], (85, 85, 90))
    for lx in range(10, W, 60):
        c.rect([lx, 262, lx + 30, 266], (235, 235, 235))


# each spec: seed for the background, then drawing calls in back-to-front order
def street_scene(name: str, seed: int, calls: list[tuple]) -> dict:
    c = Canvas()
    street_background(c, seed)
    for fn, *args in calls:
        if fn == "crossing":
            c.begin(None)
            for i in range(args[0], args[1], 24):
                c.rect([i, 214, i + 14, H], (235, 235, 235))
        else:
            fn, kwargs = (fn, args[-1]) if args and isinstance(args[-1], dict) else (fn, {})
            pos = args[:-1] if kwargs else args
            FUNCS[fn](c, *pos, **kwargs)
    c.save(MEDIA / "images" / f"{name}.png")
    return {"file": f"media/images/{name}.png", "width": W, "height": H, "boxes": c.boxes()}


FUNCS = {
    "car": car,
    "person": person,
    "bicycle": bicycle,
    "light": traffic_light,
    "tree": tree,
    "bin": bin_,
    "poster": poster_person,
}

BLUE, RED, WHITE, YELLOW, GREEN, BLACK = (
    (40, 80, 190),
    (190, 40, 40),
    (235, 235, 240),
    (230, 190, 40),
    (40, 140, 70),
    (40, 40, 45),
)

STREETS: dict[str, tuple[int, list[tuple]]] = {
    # practice: one clean object type first, then mixtures, then edge cases
    "street_01": (1, [("car", 60, 290, 1.3, BLUE), ("car", 290, 280, 1.0, RED, {"left": True})]),
    "street_02": (
        2,
        [
            ("person", 90, 205, 1.1, GREEN),
            ("person", 250, 200, 1.0, RED),
            ("person", 400, 206, 1.15, YELLOW),
            ("tree", 330, 200, 0.9),
        ],
    ),
    "street_03": (
        3,
        [
            ("light", 40, 205, 1.0, {"lit": "green"}),
            ("car", 120, 300, 1.4, WHITE),
            ("person", 420, 205, 1.1, BLUE),
            ("bicycle", 330, 250, 1.2),
        ],
    ),
    "street_04": (
        4,
        [
            ("car", -40, 300, 1.4, YELLOW, {"note": "cut off at left border"}),
            ("car", 250, 285, 1.2, GREEN),
            ("person", 200, 203, 1.0, RED),
        ],
    ),
    "street_05": (
        5,
        [
            ("person", 220, 208, 1.2, BLUE, {"note": "partly behind the other person"}),
            ("person", 236, 212, 1.25, RED, {"note": "in front"}),
            ("bicycle", 60, 212, 1.0),
            ("light", 440, 205, 1.0),
        ],
    ),
    "street_06": (
        6,
        [
            ("person", 200, 245, 1.2, GREEN, {"note": "lower body hidden by the car"}),
            ("car", 130, 300, 1.4, BLUE),
            ("light", 420, 205, 1.0, {"lit": "yellow"}),
        ],
    ),
    "street_07": (
        7,
        [
            ("car", 60, 240, 0.45, RED, {"note": "small, far away"}),
            ("car", 360, 240, 0.45, WHITE, {"left": True, "note": "small, far away"}),
            ("car", 150, 312, 1.5, GREEN),
            ("person", 30, 205, 0.9, YELLOW),
        ],
    ),
    "street_08": (
        8,
        [
            ("poster", 300, 90),
            ("person", 130, 206, 1.1, BLUE),
            ("bin", 360, 205, 1.0),
            ("car", 220, 300, 1.2, BLACK),
        ],
    ),
    "street_09": (
        9,
        [
            ("crossing", 140, 340),
            ("person", 190, 280, 1.3, RED),
            ("person", 265, 290, 1.35, YELLOW),
            ("light", 110, 205, 1.0),
            ("light", 370, 205, 1.0, {"lit": "green"}),
        ],
    ),
    "street_10": (
        10,
        [
            ("bicycle", 80, 300, 1.6),
            ("person", 135, 266, 1.3, GREEN, {"note": "riding: boxed as person"}),
            ("bicycle", 300, 208, 0.9, (40, 90, 200), {"note": "parked"}),
        ],
    ),
    "street_11": (
        11,
        [
            ("car", 380, 290, 1.3, RED, {"note": "cut off at right border"}),
            ("car", 90, 295, 1.3, WHITE),
            ("person", 60, 205, 1.0, BLUE),
            ("tree", 300, 205, 1.0),
        ],
    ),
    "street_12": (
        12,
        [
            ("person", 300, 204, 1.1, YELLOW, {"note": "mostly behind the tree"}),
            ("tree", 306, 206, 1.1),
            ("person", 120, 206, 1.1, RED),
            ("car", 170, 290, 1.2, BLUE),
        ],
    ),
    "street_13": (
        13,
        [
            ("car", 40, 300, 1.3, GREEN),
            ("car", 150, 306, 1.35, RED, {"note": "overlaps the green car"}),
            ("light", 430, 205, 1.0),
        ],
    ),
    "street_14": (
        14,
        [
            ("person", 70, 206, 1.0, RED),
            ("person", 150, 205, 1.0, GREEN),
            ("person", 350, 207, 1.0, BLUE),
            ("bicycle", 210, 208, 0.9),
            ("car", 250, 300, 1.3, YELLOW),
        ],
    ),
    # exam
    "street_15": (
        15,
        [("car", 30, 298, 1.3, RED), ("person", 330, 206, 1.1, BLUE), ("light", 430, 205, 1.0)],
    ),
    "street_16": (
        16,
        [
            ("person", 150, 208, 1.2, YELLOW),
            ("person", 165, 212, 1.25, BLUE),
            ("car", 280, 300, 1.3, WHITE),
        ],
    ),
    "street_17": (
        17,
        [("car", 400, 295, 1.3, GREEN), ("bicycle", 120, 296, 1.4), ("person", 250, 205, 1.0, RED)],
    ),
    "street_18": (
        18,
        [
            ("person", 240, 246, 1.2, RED, {"note": "lower body hidden by the car"}),
            ("car", 170, 300, 1.4, YELLOW),
            ("light", 60, 205, 1.0, {"lit": "green"}),
            ("poster", 380, 80),
        ],
    ),
    "street_19": (
        19,
        [("car", 70, 240, 0.5, BLUE), ("car", 200, 305, 1.4, RED), ("bicycle", 400, 208, 0.9)],
    ),
    # calibration (deliberately borderline)
    "street_20": (
        20,
        [
            ("bicycle", 275, 300, 1.4, {"note": "mostly behind the car"}),
            ("car", 150, 304, 1.5, BLUE),
            ("person", 400, 205, 1.0, GREEN),
        ],
    ),
    "street_21": (
        21,
        [
            ("person", 477, 207, 1.1, RED, {"note": "sliver at right border"}),
            ("car", 100, 298, 1.3, WHITE),
            ("light", 300, 205, 1.0),
        ],
    ),
}

# ---------------------------------------------------------------------- indoor scenes


def kitchen(c: Canvas, v: int, laptop: bool = False) -> None:
    c.begin(None)
    c.rect([0, 0, W, H], (240, 230, 205))
    for y in range(120, 200, 16):
        for x in range(0, W, 16):
            c.rect([x, y, x + 14, y + 14], (225, 235, 240))
    c.rect([0, 30, W, 110], (170, 120, 80))
    for x in range(0, W, 80):
        c.rect([x + 4, 34, x + 76, 106], (185, 135, 90))
        c.rect([x + 60, 64, x + 66, 80], (90, 90, 90))
    c.rect([0, 200, W, 215], (110, 110, 115))
    c.rect([0, 215, W, H], (175, 125, 85))
    fx = 400 if v % 2 else 10
    c.rect([fx, 20, fx + 70, H], (235, 235, 235))
    c.rect([fx + 5, 140, fx + 65, 142], (150, 150, 150))
    sx = 150 if v % 2 else 300
    c.rect([sx, 200, sx + 90, 215], (60, 60, 60))
    for i in range(4):
        c.ellipse(
            [sx + 5 + (i % 2) * 45, 202 + (i // 2) * 6, sx + 40 + (i % 2) * 45, 208 + (i // 2) * 6],
            outline=(200, 60, 40),
            width=2,
        )
    c.rect([sx + 12, 170, sx + 48, 200], (160, 160, 170), radius=4)
    c.rect([sx + 48, 180, sx + 70, 184], (60, 60, 60))
    kx = 280 if v % 2 else 130
    c.rect([kx, 196, kx + 70, 206], (200, 205, 210))
    c.line([(kx + 35, 196), (kx + 35, 175), (kx + 48, 175)], (170, 170, 175), 4)
    if laptop:
        c.rect([60, 250, 330, 262], (120, 80, 50))
        c.rect([80, 262, 92, H], (120, 80, 50))
        c.rect([300, 262, 312, H], (120, 80, 50))
        c.poly([(150, 250), (230, 250), (240, 244), (140, 244)], (70, 70, 75))
        c.poly([(145, 244), (235, 244), (225, 190), (155, 190)], (50, 50, 55))
        c.poly([(152, 240), (228, 240), (220, 196), (160, 196)], (90, 150, 210))
        c.ellipse([250, 236, 266, 250], fill=(250, 250, 250))


def office(c: Canvas, v: int, kitchenette: bool = False) -> None:
    c.begin(None)
    c.rect([0, 0, W, H], (225, 225, 215))
    c.rect([0, 220, W, H], (120, 130, 140))
    wx = 260 if kitchenette else (30 if v % 2 else 300)
    c.rect([wx, 30, wx + 150, 140], (180, 210, 235))
    for y in range(34, 140, 10):
        c.rect([wx, y, wx + 150, y + 3], (235, 235, 235))
    for i, dx in enumerate((250,) if kitchenette else (40, 250)):
        c.rect([dx, 180, dx + 170, 192], (200, 190, 170))
        c.rect([dx + 8, 192, dx + 16, 260], (90, 90, 90))
        c.rect([dx + 154, 192, dx + 162, 260], (90, 90, 90))
        c.rect([dx + 55, 120, dx + 125, 172], (30, 30, 35))
        c.rect([dx + 59, 124, dx + 121, 168], (70, 120, 180) if i == 0 else (60, 160, 130))
        c.rect([dx + 85, 172, dx + 95, 180], (60, 60, 60))
        c.rect([dx + 60, 176, dx + 110, 180], (50, 50, 50))
        c.ellipse([dx + 60, 230, dx + 110, 250], fill=(40, 40, 45))
        c.rect([dx + 70, 205, dx + 100, 240], (40, 40, 45), radius=5)
    c.rect([440, 150, 470, 220], (120, 80, 50))
    c.ellipse([425, 100, 480, 160], fill=(60, 140, 60))
    if kitchenette:
        c.rect([0, 170, 200, 182], (110, 110, 115))
        c.rect([0, 182, 200, 240], (235, 235, 235))
        c.rect([0, 20, 200, 90], (235, 235, 235))
        c.rect([96, 20, 100, 90], (200, 200, 200))
        c.rect([20, 130, 60, 170], (60, 60, 60))
        c.rect([30, 150, 46, 170], (110, 70, 40))
        c.rect([110, 126, 180, 170], (200, 200, 205))
        c.rect([116, 132, 160, 164], (40, 40, 45))
        c.rect([70, 166, 100, 172], (200, 205, 210))
        c.line([(85, 166), (85, 150), (95, 150)], (170, 170, 175), 3)


def park(c: Canvas, v: int, road: bool = False) -> None:
    c.begin(None)
    c.rect([0, 0, W, H], (190, 220, 245))
    c.ellipse([380 if v % 2 else 40, 20, 430 if v % 2 else 90, 70], fill=(250, 220, 80))
    c.rect([0, 150, W, H], (110, 180, 90))
    if road:
        c.rect([0, 130, W, 150], (190, 190, 185))
        c.rect([0, 150, W, 200], (85, 85, 90))
        car(c, 290, 192, 0.6, (190, 40, 40), label=None)
        car(c, 60, 198, 0.65, (40, 80, 190), left=True, label=None)
        c.begin(None)
    c.poly([(200, H), (280, H), (250, 160), (235, 160)], (215, 195, 150))
    for x, s in ((60, 1.3), (150, 0.9), (390, 1.2), (460, 0.8)):
        tree(c, x + (20 if v % 2 else 0), 230 if s > 1 else 190, s)
    c.begin(None)
    c.rect([300, 250, 380, 258], (140, 95, 55))
    c.rect([300, 236, 380, 242], (140, 95, 55))
    c.rect([306, 258, 312, 272], (70, 70, 70))
    c.rect([368, 258, 374, 272], (70, 70, 70))
    if v % 3 == 0:
        c.ellipse([40, 250, 180, 300], fill=(90, 150, 210))


def classroom(c: Canvas, v: int) -> None:
    c.begin(None)
    c.rect([0, 0, W, H], (235, 225, 200))
    c.rect([0, 230, W, H], (160, 120, 80))
    c.rect([90, 30, 390, 130], (40, 80, 60))
    c.rect([85, 130, 395, 136], (150, 110, 70))
    for i, y in enumerate((60, 80, 100)):
        c.line([(110, y), (200 + 40 * ((i + v) % 3), y)], (230, 230, 230), 2)
    c.ellipse([420, 30, 460, 70], fill=(250, 250, 250))
    c.line([(440, 50), (440, 36), (440, 50), (452, 50)], (20, 20, 20), 2)
    for row, y in enumerate((200, 250)):
        for col in range(4):
            x = 30 + col * 115 + row * 10
            c.rect([x, y, x + 80, y + 8], (190, 150, 100))
            c.rect([x + 6, y + 8, x + 10, y + 40], (90, 90, 90))
            c.rect([x + 70, y + 8, x + 74, y + 40], (90, 90, 90))


def scene(name: str, fn: Callable[..., None], *args: Any, **kwargs: Any) -> dict:
    c = Canvas()
    fn(c, *args, **kwargs)
    c.save(MEDIA / "images" / f"{name}.png")
    return {"file": f"media/images/{name}.png", "width": W, "height": H}


SCENES = {
    "scene_01": (kitchen, 1),
    "scene_02": (office, 1),
    "scene_03": (park, 1),
    "scene_04": (classroom, 1),
    "scene_05": (kitchen, 2),
    "scene_06": (office, 2),
    "scene_07": (park, 3),
    "scene_08": (classroom, 2),
    "scene_09": (park, 2),
    "scene_10": (kitchen, 3),
    "scene_11": (office, 3),
    "scene_12": (classroom, 3),
    # exam
    "scene_13": (office, 4),
    "scene_14": (park, 6),
    "scene_15": (kitchen, 4),
    # calibration
    "scene_16": (kitchen, 5, {"laptop": True}),
    "scene_17": (park, 4, {"road": True}),
    "scene_18": (office, 5, {"kitchenette": True}),
}

# ------------------------------------------------------------------------------ audio

# name -> list of (voice, words per minute, pitch 0-99, amplitude 0-200, text, gap after s)
CLIPS: dict[str, list[tuple[str, int, int, int, str, float]]] = {
    # transcription: plain, numbers, dates, spelled names, homophones
    "tr_01": [("en-us+m3", 150, 45, 120, "please send the quarterly report by friday", 0)],
    "tr_02": [("en+f2", 150, 55, 120, "the meeting has moved to room four on the second floor", 0)],
    "tr_03": [
        (
            "en-us+m3",
            145,
            45,
            120,
            "your order number is seven three nine two and it ships tomorrow",
            0,
        )
    ],
    "tr_04": [("en+f2", 140, 55, 120, "the invoice total is two hundred and forty dollars", 0)],
    "tr_05": [
        (
            "en-gb+m1",
            140,
            50,
            120,
            "the launch date is the fourteenth of march twenty twenty six",
            0,
        )
    ],
    "tr_06": [("en-us+f3", 130, 55, 120, "my surname is spelled k, e, l, l, y", 0)],
    "tr_07": [("en-us+m3", 150, 45, 120, "please write the right answer on the board", 0)],
    "tr_08": [("en+f2", 150, 55, 120, "they said their car is parked over there", 0)],
    "tr_09": [("en-gb+m1", 150, 50, 120, "we need two copies, not four, so print it too", 0)],
    "tr_10": [("en-us+m3", 150, 45, 120, "call me back at five five five, zero one nine eight", 0)],
    "tr_11": [("en+f2", 150, 55, 120, "the knight rode through the night to reach the castle", 0)],
    "tr_12": [("en-us+f3", 140, 55, 120, "um, so the, the refund should arrive in three days", 0)],
    # speakers
    "sp_01": [("en-us+m3", 150, 40, 120, "good morning, thanks for calling support", 0)],
    "sp_02": [
        ("en-us+m3", 150, 40, 120, "hello, how can i help you today", 0.5),
        ("en+f2", 150, 70, 120, "hi, my parcel has not arrived yet", 0),
    ],
    "sp_03": [
        ("en-us+m3", 150, 40, 120, "shall we start with the budget", 0.4),
        ("en+f2", 150, 70, 120, "yes, the numbers are ready", 0.4),
        ("en-gb+m1", 140, 20, 120, "i will take notes", 0),
    ],
    "sp_04": [
        ("en+f2", 150, 70, 120, "the train leaves at nine", 0.5),
        ("en+f2", 150, 70, 120, "so we should be at the station by half past eight", 0),
    ],
    "sp_05": [
        ("en-gb+m1", 150, 25, 120, "can you hear me now", 0.4),
        ("en-us+f3", 150, 75, 120, "yes, loud and clear", 0.4),
        ("en-gb+m1", 150, 25, 120, "great, let us begin", 0),
    ],
    "sp_06": [
        ("en-us+m3", 150, 40, 120, "i checked the logs this morning", 0.5),
        ("en-us+m3", 150, 40, 120, "and the error started after the update", 0),
    ],
    "sp_07": [
        ("en-us+m3", 150, 40, 120, "the patient is stable", 0.5),
        ("en-gb+m1", 150, 35, 120, "good, we will review again at noon", 0),
    ],
    # prosody: rate, loudness, question vs statement
    "pr_01": [("en-us+m3", 260, 45, 120, "the store opens at ten and closes at six", 0)],
    "pr_02": [("en-us+m3", 95, 45, 120, "the store opens at ten and closes at six", 0)],
    "pr_03": [("en+f2", 150, 55, 120, "you already sent the invoice?", 0)],
    "pr_04": [("en+f2", 150, 55, 120, "you already sent the invoice.", 0)],
    "pr_05": [
        ("en-us+m3", 150, 45, 25, "the package is on the front step", 0.5),
        ("en-us+m3", 150, 45, 120, "the package is on the front step", 0),
    ],
    "pr_06": [
        ("en+f2", 150, 55, 120, "the lift is out of order", 0.5),
        ("en+f2", 150, 55, 120, "please use the stairs", 0),
    ],
    "pr_07": [("en-gb+m1", 150, 50, 120, "is the pharmacy open on sunday?", 0)],
    # exam
    "ex_01": [("en-gb+m1", 145, 50, 120, "the flight to lisbon boards at gate twelve", 0)],
    "ex_02": [("en+f2", 140, 55, 120, "the code is b, seven, q, two", 0)],
    "ex_03": [("en-us+m3", 150, 45, 120, "we will meet here at noon to hear the results", 0)],
    "ex_04": [("en-us+f3", 140, 55, 120, "the rent rose by eighteen percent in june", 0)],
    "ex_05": [
        ("en-us+m3", 150, 40, 120, "did you restart the router", 0.4),
        ("en+f2", 150, 70, 120, "yes, twice", 0.4),
        ("en-us+m3", 150, 40, 120, "then i will send a technician", 0),
    ],
    "ex_06": [
        ("en+f2", 150, 70, 120, "the report is finished", 0.5),
        ("en+f2", 150, 70, 120, "i will share it after lunch", 0),
    ],
    "ex_07": [("en-gb+m1", 100, 50, 120, "please keep your seat belt fastened", 0)],
    "ex_08": [("en-us+m3", 150, 45, 120, "the form is due on monday?", 0)],
    # calibration
    "ca_01": [("en-us+m3", 220, 85, 170, "i have been waiting for forty minutes", 0)],
    "ca_02": [
        ("en-us+m3", 150, 40, 120, "thanks for joining", 0.4),
        ("en-us+m5", 150, 48, 120, "happy to be here", 0),
    ],
    "ca_03": [("en+f2", 100, 25, 50, "the results came back this morning", 0)],
}

RATE = 16000


def speak(voice: str, wpm: int, pitch: int, amp: int, text: str, out: Path) -> None:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(
        [
            "espeak-ng",
            "-v",
            voice,
            "-s",
            str(wpm),
            "-p",
            str(pitch),
            "-a",
            str(amp),
            "-w",
            str(raw),
            text,
        ],
        check=True,
    )
    # -D: no dither, so regenerating gives byte-identical files.
    subprocess.run(
        ["sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)], check=True
    )
    raw.unlink()


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)


def f0_track(x: np.ndarray) -> list[float]:
    """Rough pitch per 40 ms voiced frame (autocorrelation), to check question rises."""
    out, n = [], int(0.04 * RATE)
    for i in range(0, len(x) - n, n):
        fr = x[i : i + n] - x[i : i + n].mean()
        if np.sqrt(np.mean(fr**2)) < 300:
            continue
        ac = np.correlate(fr, fr, "full")[n - 1 :]
        lo, hi = RATE // 400, RATE // 70
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            out.append(RATE / lag)
    return out


def level_db(x: np.ndarray) -> float:
    """RMS level of the voiced samples, in dB relative to full scale."""
    voiced = np.abs(x) > 300
    return float(20 * np.log10(np.sqrt(np.mean(x[voiced] ** 2)) / 32768)) if voiced.any() else -99


def make_clip(name: str, parts: list[tuple[str, int, int, int, str, float]]) -> dict:
    out = MEDIA / "audio" / f"{name}.wav"
    per_part = []
    with tempfile.TemporaryDirectory() as tmp:
        pieces: list[str] = []
        for i, (voice, wpm, pitch, amp, text, gap) in enumerate(parts):
            p = Path(tmp) / f"{i}.wav"
            speak(voice, wpm, pitch, amp, text, p)
            px = read_wav(p)
            f0 = f0_track(px)
            per_part.append(
                {
                    "voice": voice,
                    "text": text,
                    "seconds": round(len(px) / RATE, 2),
                    "rms_dbfs": round(level_db(px), 1),
                    "f0_median_hz": round(float(np.median(f0)), 1) if f0 else 0.0,
                }
            )
            pieces.append(str(p))
            if gap:
                silence = Path(tmp) / f"{i}_gap.wav"
                subprocess.run(
                    [
                        "sox",
                        "-D",
                        "-n",
                        "-r",
                        str(RATE),
                        "-c",
                        "1",
                        "-b",
                        "16",
                        str(silence),
                        "trim",
                        "0",
                        str(gap),
                    ],
                    check=True,
                )
                pieces.append(str(silence))
        subprocess.run(["sox", "-D", *pieces, str(out)], check=True)
    x = read_wav(out)
    rms_db = level_db(x)
    f0 = f0_track(x)
    words = sum(len(t.replace(",", " ").split()) for *_, t, _ in parts)
    seconds = len(x) / RATE
    tail = float(np.median(f0[-4:])) if len(f0) >= 8 else 0.0
    body = float(np.median(f0[:-4])) if len(f0) >= 8 else 0.0
    return {
        "file": f"media/audio/{name}.wav",
        "seconds": round(seconds, 2),
        "words_per_second": round(words / seconds, 2),
        "speech_rms_dbfs": round(float(rms_db), 1),
        "f0_median_hz": round(body, 1),
        "f0_final_hz": round(tail, 1),
        "parts": per_part,
    }


def main() -> None:
    (MEDIA / "images").mkdir(parents=True, exist_ok=True)
    (MEDIA / "audio").mkdir(parents=True, exist_ok=True)
    manifest: dict = {"images": {}, "scenes": {}, "audio": {}}
    for name, (seed, calls) in STREETS.items():
        manifest["images"][name] = street_scene(name, seed, calls)
    for name, spec in SCENES.items():
        fn, v, *kw = spec
        manifest["scenes"][name] = scene(name, fn, v, **(kw[0] if kw else {}))
    for name, parts in CLIPS.items():
        manifest["audio"][name] = make_clip(name, parts)
    (MEDIA / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(f.stat().st_size for f in MEDIA.rglob("*") if f.is_file())
    print(f"wrote {len(STREETS) + len(SCENES)} images, {len(CLIPS)} clips, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
