"""The simulated camera's picture: a static scene, a moving box, a clock and a frame code."""

from __future__ import annotations

import time

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

CODE_BITS = 24
_BLACK = 16  # limited-range luma, as cameras encode it
_WHITE = 235
_GRAIN = 8  # ± levels of the scene's fixed texture
_GLYPHS = "0123456789:.# "

Planes = NDArray[np.uint8]
"""A yuv420p picture: the (height * 3 // 2, width) array `av.VideoFrame.from_ndarray` takes."""


def _code_geometry(width: int) -> tuple[int, int, int]:
    """Return the side, left and top of the frame code's squares for a picture width."""
    side = max(2, width // 32 // 2 * 2)
    return side, side, side // 2 * 2


def read_frame_counter(frame: av.VideoFrame) -> int:
    """Decode the frame number (modulo 2**24) from a decoded picture's row of squares.

    The squares are width / 32 wide, so the code survives compression from 256 pixels wide up.
    """
    plane = frame.planes[0]  # luma of a planar YUV (or gray) picture
    luma = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    side, left, top = _code_geometry(frame.width)
    # Average the middle of each square: edges blur under compression, centres do not.
    inner = slice(side // 4, side - side // 4)
    value = 0
    for bit in range(CODE_BITS):
        square = luma[top : top + side, left + bit * side : left + (bit + 1) * side]
        value = value << 1 | int(square[inner, inner].mean() >= 128)
    return value


def _font(size: int) -> ImageFont.FreeTypeFont:
    """Return Pillow's built-in scalable font at a pixel size."""
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("Pillow was built without FreeType; the clock needs scalable text")
    return font


def _rgb_to_yuv(rgb: NDArray[np.float32]) -> tuple[NDArray[np.uint8], ...]:
    """Convert an RGB picture to BT.601 limited-range Y, U and V planes (chroma halved)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + (65.7 * r + 129.1 * g + 25.1 * b) / 255
    u = 128 + (-37.9 * r - 74.5 * g + 112.4 * b) / 255
    v = 128 + (112.4 * r - 94.2 * g - 18.2 * b) / 255

    def halve(plane: NDArray[np.float32]) -> NDArray[np.float32]:
        h, w = plane.shape
        return np.asarray(plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)), np.float32)

    return tuple(np.clip(p, 0, 255).round().astype(np.uint8) for p in (y, halve(u), halve(v)))


class PictureMaker:
    """Draws frame n of the test picture cheaply: a precomputed scene plus what changes."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        """Precompute the scene, the glyphs and the layout for this size."""
        if width % 2 or height % 2:
            raise ValueError("width and height must be even")
        self.width = width
        self.height = height
        self._fps = fps
        self._side, self._code_left, self._code_top = _code_geometry(width)
        self._glyphs = self._render_glyphs()
        glyph_height = self._glyphs["0"].shape[0]
        self._text_top = self._code_top + self._side * 2
        self._text_left = self._side
        self._text_rows = (self._text_top, self._text_top + glyph_height)
        self._box = max(2, height // 6 // 2 * 2)
        self._background = self._render_scene()

    def _render_glyphs(self) -> dict[str, NDArray[np.uint8]]:
        """Render each character white on black at its own advance, sized to fit one line."""
        sample = "00:00:00.000 #000000"
        size = max(6, self.height // 10)
        font = _font(size)
        fit = (self.width - 2 * self._side) / font.getlength(sample)
        if fit < 1:
            font = _font(max(6, int(size * fit)))
        ascent, descent = font.getmetrics()
        glyphs = {}
        for char in _GLYPHS:
            image = Image.new("L", (round(font.getlength(char)), ascent + descent), 0)
            ImageDraw.Draw(image).text((0, 0), char, font=font, fill=255)
            alpha = np.asarray(image, dtype=np.uint16)
            glyphs[char] = (_BLACK + alpha * (_WHITE - _BLACK) // 255).astype(np.uint8)
        return glyphs

    def _render_scene(self) -> Planes:
        """Draw the static scene: sky, ground, a door, and neutral bands behind code and text."""
        h, w = self.height, self.width
        rows = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        sky = np.array([110, 160, 220], np.float32)
        ground = np.array([90, 80, 60], np.float32)
        rgb = np.broadcast_to(sky + (ground - sky) * rows, (h, w, 3)).copy()
        door_left, door_top = w * 5 // 8, h * 3 // 10
        rgb[door_top:, door_left : door_left + w // 6] = (120, 70, 40)
        knob = h * 13 // 20
        rgb[knob : knob + max(2, h // 60), door_left + w // 8 : door_left + w // 7] = (200, 180, 60)
        # Fine detail (foliage, brick, sensor grain) that a real scene has and flat colours
        # lack: it gives keyframes a real camera's size and decoding cost.
        grain = np.random.default_rng(0).integers(-_GRAIN, _GRAIN + 1, (h, w, 1))
        rgb += grain.astype(np.float32)
        rgb[: self._code_top * 2 + self._side] = (128, 128, 128)
        top, bottom = self._text_rows
        rgb[top:bottom] = 0
        y, u, v = _rgb_to_yuv(rgb)
        return np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(h * 3 // 2, w)

    def render(self, number: int, wall_time: float) -> Planes:
        """Return the planes of frame `number`, showing `wall_time` on its clock."""
        planes = self._background.copy()
        luma = planes[: self.height]
        self._draw_box(planes, number)
        for bit in range(CODE_BITS):
            left = self._code_left + bit * self._side
            on = number >> (CODE_BITS - 1 - bit) & 1
            luma[self._code_top : self._code_top + self._side, left : left + self._side] = (
                _WHITE if on else _BLACK
            )
        clock = time.strftime("%H:%M:%S", time.localtime(wall_time))
        millis = int(wall_time * 1000) % 1000
        line = np.hstack([self._glyphs[c] for c in f"{clock}.{millis:03d} #{number:06d}"])
        top, bottom = self._text_rows
        visible = line[:, : self.width - self._text_left]
        luma[top:bottom, self._text_left : self._text_left + visible.shape[1]] = visible
        return planes

    def _draw_box(self, planes: Planes, number: int) -> None:
        """Draw an orange box bouncing across the lower third, one sweep every four seconds."""
        travel = self.width - self._box
        period = 8 * self._fps
        phase = number % period
        x = travel * min(phase, period - phase) * 2 // period // 2 * 2
        y = self.height * 2 // 3 // 2 * 2
        h, w, box = self.height, self.width, self._box
        planes[y : y + box, x : x + box] = 170
        # The chroma rows hold the whole U plane, then the whole V plane, each (h/2, w/2).
        u, v = planes[h:].reshape(2, h // 2, w // 2)
        u[y // 2 : (y + box) // 2, x // 2 : (x + box) // 2] = 60
        v[y // 2 : (y + box) // 2, x // 2 : (x + box) // 2] = 190
