"""Turn a receipt image into what a cheap webcam sees: tilted, blurred, glared, noisy."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def webcam_frames(receipt_png: Path, count: int = 20, *, seed: int = 3, size=(640, 480),
                  hard: bool = False) -> list[np.ndarray]:
    """``hard``: the receipt held further away, more blur and noise (a poor camera in a dim hall)."""
    rng = np.random.default_rng(seed)
    receipt = cv2.imread(str(receipt_png))
    h, w = receipt.shape[:2]
    # The part a person holds to the camera: the QR code and the ID around it.
    top = int(h * 0.12)
    crop = receipt[top: top + int(h * 0.45), :]
    ch, cw = crop.shape[:2]
    width, height = size
    frames = []
    for _ in range(count):
        scale = rng.uniform(*((0.3, 0.45) if hard else (0.55, 0.8))) * min(width / cw, height / ch)
        tw, th = cw * scale, ch * scale
        x0, y0 = (width - tw) / 2 + rng.uniform(-30, 30), (height - th) / 2 + rng.uniform(-20, 20)
        jitter = lambda: rng.uniform(-0.06, 0.06) * tw  # noqa: E731 - perspective: corners move
        dst = np.float32([[x0 + jitter(), y0 + jitter()], [x0 + tw + jitter(), y0 + jitter()],
                          [x0 + tw + jitter(), y0 + th + jitter()], [x0 + jitter(), y0 + th + jitter()]])
        src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
        background = np.full((height, width, 3), rng.integers(60, 120), np.uint8)
        frame = cv2.warpPerspective(crop, cv2.getPerspectiveTransform(src, dst), (width, height),
                                    dst=background, borderMode=cv2.BORDER_TRANSPARENT)
        frame = cv2.GaussianBlur(frame, (7, 7) if hard else (5, 5), rng.uniform(*((1.2, 2.0) if hard else (0.6, 1.4))))
        glare = np.zeros((height, width), np.float32)
        cv2.circle(glare, (int(rng.uniform(0, width)), int(rng.uniform(0, height))), int(width * 0.25), 70, -1)
        glare = cv2.GaussianBlur(glare, (0, 0), width * 0.08)
        noisy = frame.astype(np.float32) + glare[..., None] + rng.normal(0, 16 if hard else 8, frame.shape)
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return frames


def write_video(frames: list[np.ndarray], path: Path, fps: float = 10.0) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
