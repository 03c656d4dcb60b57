"""Drawing a :class:`~msmcore.profile.Profile` as a timeline (matplotlib, imported when asked for)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from msmcore.errors import MSMError
from msmcore.profile import KINDS

if TYPE_CHECKING:
    from msmcore.profile import Profile

__all__ = ["draw_timeline"]


def draw_timeline(profile: Profile, path: Path, *, title: str | None = None, dpi: int = 120) -> Path:
    """Draw ``profile`` into the image file ``path``; see :meth:`msmcore.profile.Profile.timeline`.

    Raises
    ------
    MSMError
        When matplotlib is not installed, when no single event was kept, or
        when the file cannot be written.
    """
    try:
        import matplotlib
        from matplotlib.figure import Figure  # no pyplot: the caller's backend and figures stay as they are
        from matplotlib.patches import Patch
    except ImportError as exc:
        raise MSMError("drawing a timeline needs matplotlib, which is not installed: "
                       "pip install matplotlib") from exc
    single = profile.count == 1
    if profile.max_events == 0 or not single.any():
        raise MSMError("this profile holds only totals (run with profile=False, or every event beyond "
                       "max_events): there is no timeline to draw; run with profile=True")
    lanes = sorted({(int(c), int(r)) for c, r in zip(profile.component[single], profile.rank[single], strict=True)})
    span = max(float(profile.end[single].max()), float((profile.offset + profile.wall).max()), 1e-12)
    width_in = 11.0
    pixel = span / (width_in * dpi)
    cmap = matplotlib.colormaps["tab10"]
    colours = {k: cmap(i % 10) for i, k in enumerate(KINDS)}
    fig = Figure(figsize=(width_in, 1.2 + 0.45 * len(lanes)))
    ax = fig.subplots()
    seen: set[int] = set()
    for y, (c, r) in enumerate(lanes):
        here = single & (profile.component == c) & (profile.rank == r)
        for k in np.unique(profile.kind[here]):
            sel = here & (profile.kind == k)
            starts, ends = _merged(profile.start[sel], profile.end[sel], pixel)
            ax.broken_barh(list(zip(starts, np.maximum(ends - starts, pixel), strict=True)), (y - 0.4, 0.8),
                           facecolors=colours[KINDS[int(k)]], linewidth=0)
            seen.add(int(k))
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([f"{profile.names[c]} [{r}]" if profile.ranks > 1 else profile.names[c] for c, r in lanes])
    ax.invert_yaxis()
    ax.set_xlim(0.0, span)
    ax.set_xlabel("wall time since the run started [s]")
    ax.set_title(title or f"msmcore profile: {profile.wall_s:.4g} s wall, "
                          f"{100.0 * profile.overhead().sum() / (profile.wall_s or math.nan):.1f} % framework overhead")
    ax.legend(handles=[Patch(color=colours[KINDS[k]], label=KINDS[k]) for k in sorted(seen)],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    fig.tight_layout()
    path = Path(path)
    try:
        fig.savefig(path, dpi=dpi)
    except (OSError, ValueError) as exc:
        raise MSMError(f"cannot write the timeline to {path}: {exc}") from exc
    return path


def _merged(starts: np.ndarray, ends: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Intervals (sorted by start) joined where the next starts less than ``gap`` after one ends."""
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], np.maximum.accumulate(ends[order])
    breaks = np.flatnonzero(s[1:] - e[:-1] > gap) + 1
    first = np.concatenate([[0], breaks])
    last = np.concatenate([breaks - 1, [s.size - 1]])
    return s[first], e[last]
