"""The corpus's pictures: a scene (backdrop, shape, texture, action) drawn frame by frame,
with a visible event at each event time and nothing that depends on the timbre."""

from __future__ import annotations

import cv2
import numpy as np

from vs_plugin.data.synth.config import Params

# -- pictures --------------------------------------------------------------------------------
SHAPES = ("circle", "square", "triangle", "diamond")
TEXTURES = ("solid", "gradient", "stripes", "checker", "noise")
ACTIONS = ("strike", "bounce", "flash")


def sample_scene(rng) -> Params:
    def colour(lo: int, hi: int) -> list[int]:
        return [int(v) for v in rng.integers(lo, hi, size=3)]

    return {
        "texture": str(rng.choice(TEXTURES)),
        "bg_color": colour(0, 110),
        "bg_color2": colour(0, 110),
        "texture_scale": int(rng.integers(8, 40)),
        "texture_seed": int(rng.integers(0, 2**31 - 1)),
        "shape": str(rng.choice(SHAPES)),
        "color": colour(60, 200),
        "x": round(float(rng.uniform(0.3, 0.7)), 4),
        "y": round(float(rng.uniform(0.55, 0.75)), 4),
        "size": round(float(rng.uniform(0.12, 0.2)), 4),
        "action": str(rng.choice(ACTIONS)),
    }


def _backdrop(scene: Params, height: int, width: int) -> np.ndarray:
    c1 = np.array(scene["bg_color"], dtype=np.float32)
    c2 = np.array(scene["bg_color2"], dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    s = scene["texture_scale"]
    kind = scene["texture"]
    if kind == "gradient":
        w = (yy / max(height - 1, 1))[..., None]
    elif kind == "stripes":
        w = (((xx + yy) // s) % 2)[..., None].astype(np.float32)
    elif kind == "checker":
        w = (((xx // s) + (yy // s)) % 2)[..., None].astype(np.float32)
    elif kind == "noise":
        rng = np.random.default_rng(scene["texture_seed"])
        small = rng.uniform(0, 1, size=(max(height // s, 2), max(width // s, 2))).astype(np.float32)
        w = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    else:
        w = np.zeros((height, width, 1), dtype=np.float32)
    return np.clip(c1 * (1 - w) + c2 * w, 0, 255).astype(np.uint8)


def _draw_shape(img: np.ndarray, shape: str, cx: float, cy: float, r: float, color) -> None:
    col = tuple(int(c) for c in color)
    if shape == "circle":
        cv2.circle(img, (round(cx), round(cy)), max(round(r), 1), col, -1, cv2.LINE_AA)
        return
    if shape == "square":
        pts = [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    elif shape == "triangle":
        pts = [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    else:  # diamond
        pts = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    poly = np.round(np.array(pts)).astype(np.int32)
    cv2.fillPoly(img, [poly], col, cv2.LINE_AA)


def render_frames(meta: dict) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB from the scene and event times only (never the timbre).

    At each event the object is hit (strike: a bar comes down on it; bounce: it lands; flash:
    it swells) and lights up, fading over about 0.1 s.
    """
    scene, events = meta["scene"], np.asarray(meta["events"], dtype=np.float64)
    h, w, fps = int(meta["height"]), int(meta["width"]), float(meta["fps"])
    n = int(round(meta["duration"] * fps))
    back = _backdrop(scene, h, w)
    base_col = np.array(scene["color"], dtype=np.float32)
    r0 = scene["size"] * min(h, w) / 2
    cx, cy = scene["x"] * w, scene["y"] * h
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for k in range(n):
        t = k / fps
        past = events[events <= t]
        glow = float(np.exp(-(t - past[-1]) / 0.08)) if past.size else 0.0
        near = float(np.min(np.abs(events - t))) if events.size else 1.0
        img = back.copy()
        y, r = cy, r0
        if scene["action"] == "bounce":
            nxt = events[events > t]
            a = past[-1] if past.size else min(t, 0.0) - 0.5
            b = nxt[0] if nxt.size else t + 0.5
            y = cy - min(0.35 * h, 0.8 * h * (t - a) * (b - t) / max(b - a, 1e-3))
        elif scene["action"] == "flash":
            r = r0 * (1 + 0.35 * glow)
        col = base_col + (255 - base_col) * 0.85 * glow
        _draw_shape(img, scene["shape"], cx, y, r, col)
        if scene["action"] == "strike":
            lift = min(near / 0.15, 1.0) * 0.25 * h
            top = y - r0 - 0.06 * h - lift
            p1 = (round(cx - 1.2 * r0), round(top))
            p2 = (round(cx + 1.2 * r0), round(top + 0.06 * h))
            cv2.rectangle(img, p1, p2, (200, 200, 200), -1)
        if glow > 0.05:
            cv2.circle(img, (round(cx), round(y)), round(r * 1.6), (255, 255, 255), 2, cv2.LINE_AA)
        frames[k] = img
    return frames
