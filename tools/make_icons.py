#!/usr/bin/env python3
"""Draw every addon's ``static/description/icon.png`` (the icon Apps and Settings show).

    python3 tools/make_icons.py

One rounded square per addon in a colour of its own, a white cloud with a glyph (a
folder for the core, a share for shares, two arrows for each sync addon) and a short
label. Drawn at four times the size and scaled down, so edges are smooth. Needs Pillow
(an Odoo dependency) and a TrueType font (DejaVu or Liberation; Pillow's own otherwise).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
SIZE = 256
SCALE = 4
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "DejaVuSans-Bold.ttf",
)
# addon: (background colour, label, glyph in the cloud)
ICONS = {
    "cloud_base": ("#714B67", "Storage", "folder"),
    "cloud_share": ("#00A09D", "Share", "share"),
    "google_drive_sync": ("#188038", "Drive", "sync"),
    "onedrive_sync": ("#1E88E5", "OneDrive", "sync"),
    "dropbox_sync": ("#3949AB", "Dropbox", "sync"),
    "nextcloud_sync": ("#00758F", "Nextcloud", "sync"),
    "amazon_s3_sync": ("#E07B00", "S3", "sync"),
    "box_sync": ("#0B2E59", "Box", "sync"),
    "nas_sync": ("#4A5568", "NAS", "sync"),
    "cloud_documents": ("#B7472A", "Documents", "folder"),
}


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def cloud(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], fill: str) -> None:
    """A cloud filling ``box``: three bumps over a flat, rounded base."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    base_top = y0 + h * 0.45
    draw.rounded_rectangle((x0, base_top, x1, y1), radius=(y1 - base_top) / 2, fill=fill)
    for cx, cy, r in ((0.30, 0.55, 0.22), (0.55, 0.36, 0.30), (0.78, 0.58, 0.19)):
        draw.ellipse((x0 + w * (cx - r), y0 + h * cy - w * r,
                      x0 + w * (cx + r), y0 + h * cy + w * r), fill=fill)


def glyph(draw: ImageDraw.ImageDraw, kind: str, centre: tuple[float, float], unit: float,
          fill: str) -> None:
    cx, cy = centre
    if kind == "folder":
        w, h = unit * 2.4, unit * 1.6
        x0, y0 = cx - w / 2, cy - h / 2
        draw.rounded_rectangle((x0, y0 - unit * 0.3, x0 + w * 0.45, y0 + unit * 0.3),
                               radius=unit * 0.15, fill=fill)
        draw.rounded_rectangle((x0, y0, x0 + w, y0 + h), radius=unit * 0.2, fill=fill)
    elif kind == "share":
        dots = [(cx + unit * 0.9, cy - unit * 0.75), (cx - unit * 0.9, cy),
                (cx + unit * 0.9, cy + unit * 0.75)]
        draw.line([dots[0], dots[1], dots[2]], fill=fill, width=int(unit * 0.28))
        for x, y in dots:
            r = unit * 0.42
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    else:  # sync: an arrow up and an arrow down, side by side
        for dx, up in ((-0.55, True), (0.55, False)):
            x = cx + unit * dx
            shaft = unit * 0.26
            head_w, head_h, length = unit * 0.55, unit * 0.6, unit * 1.9
            top, bottom = cy - length / 2, cy + length / 2
            if up:
                draw.rectangle((x - shaft, top + head_h * 0.9, x + shaft, bottom), fill=fill)
                draw.polygon([(x, top), (x - head_w, top + head_h), (x + head_w, top + head_h)],
                             fill=fill)
            else:
                draw.rectangle((x - shaft, top, x + shaft, bottom - head_h * 0.9), fill=fill)
                draw.polygon([(x, bottom), (x - head_w, bottom - head_h),
                              (x + head_w, bottom - head_h)], fill=fill)


def icon(colour: str, label: str, kind: str) -> Image.Image:
    big = SIZE * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.18, fill=colour)
    margin = big * 0.16
    cloud_box = (margin, big * 0.14, big - margin, big * 0.62)
    cloud(draw, cloud_box, "white")
    centre = ((cloud_box[0] + cloud_box[2]) / 2, cloud_box[1] + (cloud_box[3] - cloud_box[1])
              * 0.62)
    glyph(draw, kind, centre, big * 0.085, colour)
    size = big * 0.17
    text_font = font(int(size))
    while draw.textlength(label, font=text_font) > big * 0.84 and size > big * 0.08:
        size *= 0.92
        text_font = font(int(size))
    draw.text((big / 2, big * 0.81), label, font=text_font, fill="white", anchor="mm")
    return image.resize((SIZE, SIZE), Image.LANCZOS)


def main() -> int:
    for addon, (colour, label, kind) in ICONS.items():
        target = ROOT / addon / "static" / "description" / "icon.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        icon(colour, label, kind).save(target, optimize=True)
        print(target.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
