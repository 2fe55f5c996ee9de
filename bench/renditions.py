"""Time to make every rendition of a 24-megapixel photo: p50 and p95 over N runs."""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cms_api.services.media import decoding, formats, renditions


def photo_like(width: int, height: int, seed: int) -> bytes:
    """A JPEG that compresses and resizes like a photograph: smooth gradients and shapes
    (sky, light) under fine noise (texture, sensor grain)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 90 + 110 * (xs / width) + 30 * np.sin(ys / 170.0)
    green = 70 + 120 * (ys / height) + 25 * np.cos(xs / 230.0)
    blue = 140 - 60 * (xs / width) + 40 * np.sin((xs + ys) / 310.0)
    pixels = np.stack([red, green, blue], axis=-1)
    pixels += rng.normal(0, 14, size=pixels.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(
        buffer, "JPEG", quality=90
    )
    return buffer.getvalue()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--width", type=int, default=6000)
    parser.add_argument("--height", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()

    data = photo_like(args.width, args.height, args.seed)
    print(
        f"photo: {args.width}x{args.height} JPEG, {len(data) / 1e6:.1f} MB; "
        f"presets {renditions.RATIOS} x {renditions.WIDTHS} x "
        f"{[kind.name for kind in renditions.FORMATS]}; {args.runs} runs"
    )
    phases: dict[str, list[float]] = {"decode": [], "original": [], "renditions": [], "all": []}
    count = 0
    for _ in range(args.runs):
        started = time.perf_counter()
        decoded = decoding.decode(data, max_bytes=1 << 30, max_pixels=1 << 31)
        decoded_at = time.perf_counter()
        decoding.encode(decoded.image, formats.JPEG, decoding.ORIGINAL_OPTIONS["jpeg"])
        original_at = time.perf_counter()
        made = renditions.make_renditions(decoded.image, 0.5, 0.5)
        finished = time.perf_counter()
        count = len(made)
        phases["decode"].append(decoded_at - started)
        phases["original"].append(original_at - decoded_at)
        phases["renditions"].append(finished - original_at)
        phases["all"].append(finished - started)

    print(f"{count} renditions per upload\n")
    print(f"| {'phase':<40} | {'p50 (s)':>8} | {'p95 (s)':>8} |")
    print(f"| {'-' * 40} | {'-' * 8} | {'-' * 8} |")
    labels = {
        "decode": "decode, EXIF turn, sRGB, strip",
        "original": "re-encode the original (JPEG q92)",
        "renditions": f"all {count} renditions (crop, resize, encode)",
        "all": "whole upload (without storage)",
    }
    for name, values in phases.items():
        p50 = statistics.median(values)
        print(f"| {labels[name]:<40} | {p50:>8.3f} | {percentile(values, 0.95):>8.3f} |")


if __name__ == "__main__":
    main()
