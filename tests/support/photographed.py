"""Turn a receipt image into what a photograph of it held to a cheap webcam shows: one or
two of the troubles real photographs of thermal receipts have (``TROUBLES``), then JPEG.
Made for ``benchmarks/qr_decode.py`` and the QR ladder's tests; not real photographs."""
from __future__ import annotations

import cv2
import numpy as np

#: What goes wrong when a citizen holds a thermal receipt to a cheap webcam.
TROUBLES = ("small", "perspective", "defocus", "motion", "low light", "uneven light", "glare", "faded", "curved")


def photographed_frames(receipt: np.ndarray, count: int, seed: int,
                        size: tuple[int, int] = (640, 480)) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    """``count`` frames of the receipt image (BGR) with one or two troubles each, and which."""
    rng = np.random.default_rng(seed)
    h = receipt.shape[0]
    top = int(h * 0.12)
    held = receipt[top: top + int(h * 0.45), :]  # the part a person holds up: code and ID
    width, height = size
    frames = []
    for _ in range(count):
        troubles = set(rng.choice(TROUBLES, size=int(rng.integers(1, 3)), replace=False))
        paper = held.copy()
        if "faded" in troubles:  # thermal print fades: black turns grey, the paper yellows
            ink = rng.uniform(130, 185)
            paper = (paper.astype(np.float32) / 255 * (235 - ink) + ink).astype(np.uint8)
            paper[..., 0] = (paper[..., 0] * rng.uniform(0.85, 0.95)).astype(np.uint8)
        if "curved" in troubles:
            paper = _curved(paper, rng)
        ch, cw = paper.shape[:2]
        fit = min(width / cw, height / ch)
        scale = rng.uniform(0.18, 0.28) * fit if "small" in troubles else rng.uniform(0.45, 0.8) * fit
        tw, th = cw * scale, ch * scale
        x0, y0 = rng.uniform(0, width - tw), rng.uniform(0, max(1.0, height - th))
        tilt = rng.uniform(0.12, 0.2) if "perspective" in troubles else 0.05

        def jitter():
            return rng.uniform(-tilt, tilt) * tw

        dst = np.float32([[x0 + jitter(), y0 + jitter()], [x0 + tw + jitter(), y0 + jitter()],
                          [x0 + tw + jitter(), y0 + th + jitter()], [x0 + jitter(), y0 + th + jitter()]])
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), rng.uniform(-25, 25), 1.0)
        dst = cv2.transform(dst[None], turn)[0].astype(np.float32)
        src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
        background = cv2.add(np.full((height, width, 3), rng.integers(50, 140, size=3), np.uint8),
                             rng.integers(0, 30, (height, width, 3), dtype=np.uint8))
        frame = cv2.warpPerspective(paper, cv2.getPerspectiveTransform(src, dst), (width, height), dst=background,
                                    borderMode=cv2.BORDER_TRANSPARENT).astype(np.float32)
        if "defocus" in troubles:  # a disc, as an out-of-focus lens spreads a point
            r = 2 if "small" in troubles else int(rng.integers(2, 5))
            disc = np.zeros((2 * r + 1, 2 * r + 1), np.float32)
            cv2.circle(disc, (r, r), r, 1, -1)
            frame = cv2.filter2D(frame, -1, disc / disc.sum())
        else:
            frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.5, 1.0))
        if "motion" in troubles:  # a line in the direction the hand moved
            n = int(rng.integers(5, 12))
            line = np.zeros((n, n), np.float32)
            line[n // 2, :] = 1
            line = cv2.warpAffine(line, cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1), (n, n))
            frame = cv2.filter2D(frame, -1, line / line.sum())
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        if "uneven light" in troubles:  # a lamp on one side, the hand's shadow on the other
            a = rng.uniform(0, 2 * np.pi)
            ramp = (np.cos(a) * (xx - width / 2) + np.sin(a) * (yy - height / 2)) / (width / 2)
            frame *= np.clip(0.65 + 0.45 * ramp, 0.2, 1.3)[..., None]
        if "glare" in troubles:  # a ceiling lamp on glossy thermal paper: a saturated patch
            cx = dst[:, 0].mean() + rng.uniform(-0.3, 0.3) * tw
            cy = dst[:, 1].mean() + rng.uniform(-0.3, 0.3) * th
            patch = np.zeros((height, width), np.float32)
            cv2.ellipse(patch, (int(cx), int(cy)), (int(tw * rng.uniform(0.1, 0.2)), int(th * rng.uniform(0.06, 0.14))),
                        rng.uniform(0, 180), 0, 360, rng.uniform(180, 260), -1)
            frame += cv2.GaussianBlur(patch, (0, 0), tw * 0.03 + 1)[..., None]
        low = "low light" in troubles
        frame *= rng.uniform(0.12, 0.3) if low else rng.uniform(0.8, 1.1)
        frame += rng.normal(0, rng.uniform(5, 10) if low else rng.uniform(2, 5), frame.shape).astype(np.float32)
        ok, jpeg = cv2.imencode(".jpg", np.clip(frame, 0, 255).astype(np.uint8),
                                [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 75))])
        frames.append((cv2.imdecode(jpeg, cv2.IMREAD_COLOR), tuple(sorted(str(t) for t in troubles))))
    return frames


def _curved(paper: np.ndarray, rng) -> np.ndarray:
    """The receipt bent like a cylinder: rows bow, columns crowd towards the edges."""
    h, w = paper.shape[:2]
    bend = rng.uniform(0.06, 0.14) * h * rng.choice([-1, 1])
    mx, my = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    u = (mx - w / 2) / (w / 2)
    map_x = w / 2 + np.sin(u * 1.2) / np.sin(1.2) * (w / 2)
    map_y = my - bend * (1 - u ** 2) + bend / 2
    return cv2.remap(paper, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
