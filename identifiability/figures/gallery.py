"""Figure 7, a gallery of the video process: the frames of a sequence beside the latent
trajectories that drew them, for the blob video (two blobs moving by gauss_ar1 dynamics), with and
without pixel noise, and the LDM paper's dot-motion video (one dot on a circle with phase jumps)."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.colors import to_rgb

from identifiability.processes import VideoSequences

from .figure import Figure, Rows, register
from .style import COLOURS, figure

STEPS = 8
VIDEOS = {
    "blobs": lambda: VideoSequences(2, 16, uncertainty=0.5, seq_len=STEPS, seed=0),
    "blobs, pixel noise 0.2": lambda: VideoSequences(2, 16, uncertainty=0.5, seq_len=STEPS, pixel_noise=0.2, seed=0),
    "dot motion (LDM paper)": lambda: VideoSequences.ldm_dots(seq_len=STEPS, speed=0.5, seed=0),
}


def _sequence(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One sequence's frames (T, C, H, W) and positions (T, J, 2)."""
    batch = VIDEOS[name]().sample(1, 7, dtype=torch.float64)
    return batch.x[0].numpy(), batch.z[0].reshape(STEPS, -1, 2).numpy()


def table(records: Rows, budget: str) -> Rows:
    rows = []
    for name in VIDEOS:
        _, positions = _sequence(name)
        for t in range(STEPS):
            for j, (x, y) in enumerate(positions[t]):
                rows.append({"video": name, "t": t, "object": j, "x": float(x), "y": float(y)})
    return rows


def _composite(frame: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W, 3): channel c in colour c, on black, clipped to [0, 1]."""
    rgb = sum(frame[c][..., None] * np.array(to_rgb(COLOURS[c + 1])) for c in range(frame.shape[0]))
    return np.clip(rgb, 0, 1)


def plot(rows: Rows):
    videos = list(dict.fromkeys(r["video"] for r in rows))
    fig, axes = figure(len(videos), STEPS + 1, width=9.0, height=1.2)
    for i, name in enumerate(videos):
        frames, _ = _sequence(name)
        for t in range(STEPS):
            ax = axes[i, t]
            ax.imshow(_composite(frames[t]), interpolation="nearest", origin="lower")  # y up, as in the paths
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            if t == 0:
                ax.set_ylabel(name, fontsize=6.5)
            if i == 0:
                ax.set_title(f"t = {t}", fontsize=7)
        ax = axes[i, STEPS]
        for j in sorted({r["object"] for r in rows if r["video"] == name}):
            mine = sorted((r for r in rows if r["video"] == name and r["object"] == j), key=lambda r: r["t"])
            ax.plot([r["x"] for r in mine], [r["y"] for r in mine], marker="o", markersize=2.5, color=COLOURS[j + 1],
                    label=f"object {j}")
            ax.plot(mine[0]["x"], mine[0]["y"], marker="s", color=COLOURS[j + 1], linestyle="none")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("x", fontsize=6, labelpad=1)
        ax.set_ylabel("y", fontsize=6, labelpad=1)
        ax.tick_params(labelsize=5)
        if i == 0:
            ax.set_title("latent paths", fontsize=7)
    return fig


def caption(rows: Rows, budget: str) -> str:
    return (f"The video process. Each row: the {STEPS} frames of one sequence (each object in its own channel, shown "
            "in its colour) and, right, the latent positions that drew them (square: t = 0). Top: two blobs moving by "
            "gauss_ar1 dynamics (16 x 16 pixels, uncertainty 0.5); middle: the same sequence with Gaussian pixel noise "
            "of standard deviation 0.2; bottom: the LDM paper's dot-motion video (one dot on a circle of radius 3, "
            "10 x 10 pixels, phase speed 0.5 rad per frame, 135-degree jumps at rate 0.01). Seed 0; no training.")


FIGURE = register(Figure("gallery", "Frames of the video processes beside their latent trajectories.", table, plot, caption,
                         sweep=False))
