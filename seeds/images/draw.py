"""Draw the seeded pictures (simple original illustrations) into this folder: `python draw.py`."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
# Lead images are 16:9; the crops (4:3, 1:1) keep the focal point, which is where each
# picture puts its subject. Drawn at 1200 wide and saved at 800 wide: every crop is then
# well over the 50,000 pixels Google asks of article images, and seeding, which makes
# every rendition of every picture, stays fast. Real lead images should be 1200 or wider.
LEAD = (1200, 675)
SAVED_LEAD = (800, 450)
PORTRAIT = (600, 600)
SAVED_PORTRAIT = (480, 480)
LOGO = (512, 512)
JPEG = {"quality": 84, "optimize": True, "progressive": True}

Colour = tuple[int, int, int]
Motif = Callable[[ImageDraw.ImageDraw, int, int], None]


def gradient(size: tuple[int, int], top: Colour, bottom: Colour, angle: float = 0) -> Image.Image:
    """Two colours blended across the picture, turned by `angle` degrees."""
    width, height = size
    side = int(math.hypot(width, height)) + 2
    ramp = Image.linear_gradient("L").resize((side, side)).rotate(angle)
    left, top_edge = (side - width) // 2, (side - height) // 2
    mask = ramp.crop((left, top_edge, left + width, top_edge + height))
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def soft_circle(picture: Image.Image, centre: tuple[int, int], radius: int, colour: Colour) -> None:
    """A blurred disc of light behind the subject."""
    layer = Image.new("L", picture.size, 0)
    ImageDraw.Draw(layer).ellipse(
        (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius), fill=150
    )
    layer = layer.filter(ImageFilter.GaussianBlur(radius // 4))
    picture.paste(Image.new("RGB", picture.size, colour), mask=layer)


def head(draw: ImageDraw.ImageDraw, x: int, y: int, scale: float, colour: Colour) -> None:
    """A head-and-shoulders silhouette in profile, facing right, its crown at (x, y)."""
    r = int(110 * scale)
    draw.ellipse((x - r, y, x + r, y + 2 * r + int(20 * scale)), fill=colour)  # skull
    draw.polygon(  # nose and chin
        [
            (x + r - int(8 * scale), y + int(1.0 * r)),
            (x + r + int(28 * scale), y + int(1.35 * r)),
            (x + r - int(4 * scale), y + int(1.5 * r)),
            (x + int(0.7 * r), y + int(2.1 * r)),
        ],
        fill=colour,
    )
    neck_top = y + int(1.9 * r)
    draw.rectangle(
        (x - int(0.45 * r), neck_top, x + int(0.45 * r), neck_top + int(0.8 * r)), fill=colour
    )
    draw.ellipse(
        (x - int(2.2 * r), neck_top + int(0.6 * r), x + int(2.2 * r), neck_top + int(3.2 * r)),
        fill=colour,
    )


def zigzag(draw: ImageDraw.ImageDraw, x: int, y: int, colour: Colour, steps: int = 4) -> None:
    """A jagged line: pain, in the shorthand of health illustrations."""
    points = [(x + i * 22, y + (18 if i % 2 else -18)) for i in range(steps + 1)]
    draw.line(points, fill=colour, width=9, joint="curve")


def headache_after_botox(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    head(draw, x, y, 1.0, (250, 244, 236))
    zigzag(draw, x - 40, y - 40, (226, 84, 84))
    zigzag(draw, x + 70, y - 10, (226, 84, 84), 3)
    # A syringe, pointing at the forehead.
    sx, sy = x + 250, y + 60
    draw.rounded_rectangle((sx, sy, sx + 170, sy + 34), radius=8, fill=(255, 255, 255))
    draw.rectangle((sx + 170, sy + 8, sx + 220, sy + 26), fill=(200, 210, 225))
    draw.line((sx, sy + 17, sx - 70, sy + 17), fill=(90, 100, 120), width=5)
    for tick in range(4):
        draw.line(
            (sx + 30 + tick * 30, sy, sx + 30 + tick * 30, sy + 14), fill=(120, 160, 200), width=3
        )


def allergy_headache_relief(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    head(draw, x, y, 1.0, (252, 246, 230))
    zigzag(draw, x - 30, y - 36, (214, 96, 60))
    rng = random.Random(7)
    for _ in range(26):  # pollen in the air
        px, py, r = x + rng.randint(160, 520), y + rng.randint(-60, 360), rng.randint(5, 14)
        draw.ellipse((px - r, py - r, px + r, py + r), fill=(250, 208, 72))
    for fx, fy in ((x + 420, y + 420), (x + 520, y + 380)):  # two flowers
        for petal in range(6):
            a = petal * math.pi / 3
            cx, cy = fx + int(26 * math.cos(a)), fy + int(26 * math.sin(a))
            draw.ellipse((cx - 18, cy - 18, cx + 18, cy + 18), fill=(255, 255, 255))
        draw.ellipse((fx - 14, fy - 14, fx + 14, fy + 14), fill=(250, 190, 40))


def ear_infection_headache(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    head(draw, x, y, 1.0, (246, 240, 250))
    ex, ey = x - 10, y + 110  # the ear, and the ache radiating from it
    draw.ellipse((ex - 26, ey - 40, ex + 26, ey + 40), fill=(232, 150, 140))
    for ring in range(1, 4):
        r = 40 + ring * 38
        draw.arc((ex - r, ey - r, ex + r, ey + r), 200, 340, fill=(230, 110, 110), width=7)
    zigzag(draw, x + 60, y - 30, (230, 110, 110), 3)


def headache_with_ear_pain(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    head(draw, x, y, 1.0, (236, 246, 248))
    ex, ey = x - 10, y + 110
    draw.ellipse((ex - 26, ey - 40, ex + 26, ey + 40), fill=(240, 170, 120))
    for ring in range(1, 3):
        r = 40 + ring * 40
        draw.arc((ex - r, ey - r, ex + r, ey + r), 150, 30, fill=(240, 140, 80), width=7)
    zigzag(draw, x - 60, y - 40, (240, 140, 80))
    zigzag(draw, x + 80, y - 20, (240, 140, 80), 3)


def lip_filler_swelling(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    cx, cy = x + 60, y + 200  # a pair of lips, and a cool pack beside them
    draw.chord((cx - 230, cy - 120, cx + 230, cy + 40), 180, 360, fill=(214, 86, 110))
    draw.chord((cx - 230, cy - 60, cx + 230, cy + 150), 0, 180, fill=(190, 64, 92))
    draw.line((cx - 220, cy - 5, cx + 220, cy - 5), fill=(140, 40, 70), width=6)
    draw.ellipse((cx - 70, cy - 120, cx + 70, cy - 40), fill=(214, 86, 110))
    draw.rounded_rectangle((cx + 300, cy - 150, cx + 470, cy + 40), radius=30, fill=(200, 232, 250))
    for flake in range(3):
        fy = cy - 110 + flake * 55
        draw.line((cx + 350, fy, cx + 420, fy), fill=(120, 180, 220), width=6)


def liver_rash(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    # The liver, and skin with a rash.
    draw.chord((x - 220, y + 20, x + 200, y + 300), 150, 30, fill=(170, 70, 60))
    draw.ellipse((x - 60, y + 40, x + 260, y + 260), fill=(170, 70, 60))
    skin = (x + 300, y - 20, x + 620, y + 380)
    draw.rounded_rectangle(skin, radius=40, fill=(246, 214, 190))
    rng = random.Random(11)
    for _ in range(40):
        px, py, r = (
            rng.randint(skin[0] + 30, skin[2] - 30),
            rng.randint(skin[1] + 30, skin[3] - 30),
            rng.randint(6, 16),
        )
        draw.ellipse((px - r, py - r, px + r, py + r), fill=(222, 96, 96))


def tmj_headache(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    head(draw, x, y, 1.0, (242, 242, 236))
    jx, jy = x + 20, y + 170  # the jaw joint, in front of the ear
    draw.ellipse((jx - 34, jy - 34, jx + 34, jy + 34), outline=(220, 90, 60), width=10)
    draw.arc((x - 40, y + 120, x + 160, y + 320), 20, 110, fill=(220, 90, 60), width=10)
    zigzag(draw, x + 40, y - 30, (220, 90, 60), 3)


# name: (colours top and bottom, where the subject stands, what to draw)
LEADS: dict[str, tuple[Colour, Colour, tuple[int, int], Motif]] = {
    "headache-after-botox": ((94, 129, 172), (176, 200, 226), (430, 140), headache_after_botox),
    "allergy-headache-relief": (
        (92, 150, 112),
        (190, 222, 170),
        (380, 140),
        allergy_headache_relief,
    ),
    "ear-infection-headache": ((120, 98, 160), (206, 186, 226), (560, 140), ear_infection_headache),
    "headache-with-ear-pain": ((62, 132, 140), (172, 214, 214), (560, 140), headache_with_ear_pain),
    "lip-filler-swelling": ((196, 120, 140), (246, 206, 214), (420, 110), lip_filler_swelling),
    "liver-rash": ((150, 120, 84), (232, 208, 170), (330, 150), liver_rash),
    "tmj-headache": ((74, 110, 130), (176, 206, 212), (560, 140), tmj_headache),
}

# slug: (initials, background colours)
PEOPLE: dict[str, tuple[str, Colour, Colour]] = {
    "miriam-castellanos-reed": ("MC", (34, 120, 120), (120, 196, 186)),
    "tobias-lindqvist": ("TL", (60, 84, 150), (150, 170, 222)),
    "rafael-oyelaran": ("RO", (150, 84, 60), (230, 170, 130)),
    "ines-valbuena-soto": ("IV", (120, 60, 130), (206, 168, 214)),
}


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def lead(name: str) -> Image.Image:
    top, bottom, (x, y), motif = LEADS[name]
    picture = gradient(LEAD, top, bottom, angle=20)
    soft_circle(picture, (x + 60, y + 200), 300, (255, 255, 255))
    motif(ImageDraw.Draw(picture), x, y)
    return picture


def portrait(slug: str) -> Image.Image:
    initials, top, bottom = PEOPLE[slug]
    picture = gradient(PORTRAIT, top, bottom, angle=35)
    draw = ImageDraw.Draw(picture)
    draw.ellipse((120, 90, 480, 450), fill=(255, 255, 255))
    draw.text((300, 275), initials, font=font(150), fill=top, anchor="mm")
    draw.pieslice((60, 470, 540, 900), 180, 360, fill=(255, 255, 255))
    return picture


def logo() -> Image.Image:
    """A teal tile with a white cross and the name: the sample publisher's mark."""
    picture = Image.new("RGBA", LOGO, (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    teal = (22, 128, 124, 255)
    draw.rounded_rectangle((16, 16, 496, 496), radius=96, fill=teal)
    draw.rounded_rectangle((206, 76, 306, 326), radius=18, fill=(255, 255, 255, 255))
    draw.rounded_rectangle((131, 151, 381, 251), radius=18, fill=(255, 255, 255, 255))
    draw.text((256, 380), "Example", font=font(64), fill=(255, 255, 255, 255), anchor="mm")
    draw.text((256, 442), "Health", font=font(64), fill=(255, 255, 255, 255), anchor="mm")
    return picture.resize((256, 256), Image.Resampling.LANCZOS)


def main() -> None:
    for name in LEADS:
        smaller = lead(name).resize(SAVED_LEAD, Image.Resampling.LANCZOS)
        smaller.save(HERE / f"{name}.jpg", "JPEG", **JPEG)
    for slug in PEOPLE:
        smaller = portrait(slug).resize(SAVED_PORTRAIT, Image.Resampling.LANCZOS)
        smaller.save(HERE / f"{slug}.jpg", "JPEG", **JPEG)
    logo().save(HERE / "publisher-logo.png", "PNG", optimize=True)


if __name__ == "__main__":
    main()
