"""Draw the Local Doorbell brand icons (brand/icon.png 256 px and icon@2x.png 512 px)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

BRAND_DIR = (
    Path(__file__).resolve().parent.parent / "custom_components" / "local_doorbell" / "brand"
)
SIZES = {"icon.png": 256, "icon@2x.png": 512}
SUPERSAMPLE = 4

TILE_TOP = (41, 121, 255)
TILE_BOTTOM = (21, 67, 176)
PLATE = (248, 250, 252)
PLATE_EDGE = (214, 222, 235)
HOUSE = (21, 82, 200)
RING = (255, 179, 0)
BUTTON = (255, 236, 179)


def _tile(size: int) -> Image.Image:
    """Return the rounded-square tile with a top-to-bottom blue gradient."""
    gradient = Image.linear_gradient("L").resize((size, size))
    tile = Image.composite(
        Image.new("RGBA", (size, size), TILE_BOTTOM),
        Image.new("RGBA", (size, size), TILE_TOP),
        gradient,
    )
    mask = Image.new("L", (size, size), 0)
    margin = round(size * 0.03)
    ImageDraw.Draw(mask).rounded_rectangle(
        (margin, margin, size - margin, size - margin), radius=round(size * 0.22), fill=255
    )
    tile.putalpha(mask)
    return tile


def _plate_box(size: int) -> tuple[int, int, int, int]:
    """Return the bounding box of the doorbell's pill-shaped face plate."""
    half_width, half_height = size * 0.2, size * 0.36
    centre = size / 2
    return (
        round(centre - half_width),
        round(centre - half_height),
        round(centre + half_width),
        round(centre + half_height),
    )


def _shadow(size: int) -> Image.Image:
    """Return a soft shadow cast by the face plate."""
    left, top, right, bottom = _plate_box(size)
    offset = round(size * 0.025)
    shadow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle(
        (left, top + offset, right, bottom + offset),
        radius=(right - left) // 2,
        fill=(8, 24, 72, 110),
    )
    return shadow.filter(ImageFilter.GaussianBlur(size * 0.02))


def _draw_plate(draw: ImageDraw.ImageDraw, size: int) -> None:
    """Draw the face plate with a thin edge."""
    left, top, right, bottom = _plate_box(size)
    edge = round(size * 0.012)
    draw.rounded_rectangle((left, top, right, bottom), radius=(right - left) // 2, fill=PLATE_EDGE)
    draw.rounded_rectangle(
        (left + edge, top + edge, right - edge, bottom - edge),
        radius=(right - left) // 2 - edge,
        fill=PLATE,
    )


def _draw_house(draw: ImageDraw.ImageDraw, size: int) -> None:
    """Draw the small house (the 'local' motif) near the top of the plate."""
    centre, unit = size / 2, size * 0.01
    roof_top, eave, floor = size * 0.235, size * 0.33, size * 0.425
    draw.polygon(
        [(centre, roof_top), (centre + 11 * unit, eave), (centre - 11 * unit, eave)], fill=HOUSE
    )
    draw.rectangle((centre - 7.5 * unit, eave - unit, centre + 7.5 * unit, floor), fill=HOUSE)
    draw.rounded_rectangle(
        (centre - 2.6 * unit, eave + 3.2 * unit, centre + 2.6 * unit, floor),
        radius=round(1.2 * unit),
        fill=PLATE,
    )


def _draw_button(draw: ImageDraw.ImageDraw, size: int) -> None:
    """Draw the round bell push: an amber ring around a pale centre."""
    centre_x, centre_y = size / 2, size * 0.64
    for radius, colour in ((size * 0.125, RING), (size * 0.085, BUTTON)):
        draw.ellipse(
            (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius),
            fill=colour,
        )


def draw_icon(size: int) -> Image.Image:
    """Draw the icon at the given size, supersampled for smooth edges."""
    big = size * SUPERSAMPLE
    icon = _tile(big)
    icon.alpha_composite(_shadow(big))
    draw = ImageDraw.Draw(icon)
    _draw_plate(draw, big)
    _draw_house(draw, big)
    _draw_button(draw, big)
    return icon.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write every brand icon into the integration's brand/ folder."""
    BRAND_DIR.mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        draw_icon(size).save(BRAND_DIR / name, optimize=True)


if __name__ == "__main__":
    main()
