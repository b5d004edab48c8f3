"""A run's CSV logs read back as one history, however often it was interrupted and resumed.

Every ``fit`` writes ``<logger>/version_N/metrics.csv`` beside the earlier ones; a run resumed
from a checkpoint starts again at the checkpoint's step, so the steps after it that the interrupted
run logged (and that were never saved) are replaced by the resumed run's: one continuous curve,
each step once, as the weights in the last checkpoint actually went. A ``validate`` or ``test`` of
the run adds only evaluation rows and replaces nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ConfigError

CURVES = {"loss": ("train_loss", "val_loss", "loss (nats per token)"),
          "bpc": ("train_bpc", "val_bpc", "bits per character"),
          "lr": ("lr", None, "learning rate"),
          "throughput": ("train_tokens_per_s", None, "tokens per second")}
"""Each picture: its train column, its validation column (drawn on the same axis), and the axis's label."""


@dataclass
class Segment:
    """One ``fit`` (or ``validate``/``test``) of the run: the CSV it logged and the steps it trained."""

    path: Path
    first_step: int | None
    last_step: int | None
    rows: int


@dataclass
class RunHistory:
    run: Path
    metrics: pd.DataFrame
    """One row per step and kind of row (training step, validation, test), sorted by step."""
    segments: list[Segment]

    @property
    def resumed_at(self) -> list[int]:
        """The steps a later fit started again from."""
        trained = [s for s in self.segments if s.first_step is not None]
        return [s.first_step for s in trained[1:]]

    def column(self, name: str) -> pd.DataFrame:
        """(step, value) of the rows that hold ``name``, finite only."""
        if name not in self.metrics:
            return pd.DataFrame({"step": [], name: []})
        rows = self.metrics.loc[self.metrics[name].notna(), ["step", name]]
        return rows[rows[name].map(lambda v: math.isfinite(float(v)))]

    def last(self, name: str) -> float | None:
        values = self.column(name)
        return float(values[name].iloc[-1]) if len(values) else None


def metric_files(run: Path) -> list[Path]:
    """Every ``version_*/metrics.csv`` under the run folder, in the order the fits wrote them."""
    files = [p for p in Path(run).rglob("metrics.csv") if p.parent.name.startswith("version_")]

    def version(path: Path) -> int:
        number = path.parent.name.removeprefix("version_")
        return int(number) if number.isdigit() else -1

    return sorted(files, key=lambda p: (p.stat().st_mtime, version(p)))


def read_history(run: Path) -> RunHistory:
    run = Path(run)
    if not run.is_dir():
        raise ConfigError(f"no run folder at {run}; give the folder a fit logged into (its trainer.logger "
                          f"save_dir, e.g. runs/debug)")
    files = metric_files(run)
    if not files:
        raise ConfigError(f"no CSV logs under {run} (no version_*/metrics.csv): the run needs a CSVLogger in "
                          f"trainer.logger, as configs/debug.yaml has")
    merged = pd.DataFrame({"step": pd.Series(dtype="int64")})
    segments = []
    for path in files:
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} cannot be read as CSV ({exc}); move it aside to report the rest") from None
        if "step" not in frame:
            raise ConfigError(f"{path} has no step column: it is not a Lightning CSVLogger's metrics.csv")
        frame = frame[frame["step"].notna()].astype({"step": "int64"})
        trained = frame.loc[frame["train_loss"].notna(), "step"] if "train_loss" in frame else frame["step"][:0]
        if len(trained):  # a resumed fit: what the earlier ones logged from its first step on was never kept
            merged = merged[merged["step"] < trained.min()]
        merged = pd.concat([merged, frame], ignore_index=True) if len(merged) else frame.copy()
        segments.append(Segment(path, int(trained.min()) if len(trained) else None,
                                int(trained.max()) if len(trained) else None, len(frame)))
    merged = merged.sort_values("step", kind="stable").reset_index(drop=True)
    return RunHistory(run, merged, segments)
