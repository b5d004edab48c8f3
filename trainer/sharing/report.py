"""``python -m trainer report RUN_DIR``: a run's curves, its best checkpoint and a seeded sample from it.

The curves come from the run's CSV logs (runlog.py: one continuous history across the
``version_*`` folders an interrupted and resumed run leaves), train and validation on one axis:
loss, bits per character, learning rate and throughput. They are written as PNGs (into
``RUN_DIR/report/`` by default) or inlined in one self-contained HTML page with ``--html``.
Matplotlib (Agg) is imported only here, when the command runs.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint import best_checkpoint, load_checkpoint
from ..errors import CheckpointError, ConfigError, OneLineArgparse
from .generate import SamplingConfig, generate, load_model
from .runlog import CURVES, RunHistory, read_history

EXIT_CODES = "exit codes: 0 ok, 2 no run there, no CSV logs, or a checkpoint that does not load (one line says which)"


@dataclass
class BestCheckpoint:
    path: Path
    step: int
    monitor: str | None = None
    score: float | None = None


@dataclass
class RunReport:
    history: RunHistory
    best: BestCheckpoint | None
    sample: str | None
    prompt: str = ""
    seed: int = 1234
    notes: list[str] = field(default_factory=list)


def find_best(checkpoints: Path) -> BestCheckpoint | None:
    """``best.ckpt`` of the checkpoint folder, else the best one ``last.ckpt`` records; None when there is none."""
    link = checkpoints / "best.ckpt"
    if link.is_file():
        path = link
    elif (checkpoints / "last.ckpt").is_file():
        try:
            path = best_checkpoint(checkpoints)
        except CheckpointError:  # no validation ever ran: the last checkpoint is the only one
            path = checkpoints / "last.ckpt"
    else:
        return None
    checkpoint = load_checkpoint(path)
    best = BestCheckpoint(path, int(checkpoint.get("global_step", 0)))
    for key, state in (checkpoint.get("callbacks") or {}).items():
        if key.startswith("ModelCheckpoint") and state.get("best_model_score") is not None:
            best.monitor, best.score = state.get("monitor"), float(state["best_model_score"])
    return best


def build_report(run: Path, checkpoints: Path | None = None, *, prompt: str = "", length: int = 300,
                 seed: int = 1234, temperature: float = 0.8) -> RunReport:
    history = read_history(run)
    folder = checkpoints if checkpoints is not None else Path(run) / "checkpoints"
    best = find_best(folder)
    report = RunReport(history, best, None, prompt, seed)
    if best is None:
        report.notes.append(f"no checkpoint in {folder} (give --checkpoints DIR): no sample")
        return report
    model, tokenizer = load_model(best.path)
    report.sample = prompt + generate(model, tokenizer, prompt, length, SamplingConfig(temperature=temperature),
                                      seed=seed)
    return report


# -- pictures -------------------------------------------------------------------------------------------------

def draw_curves(history: RunHistory) -> dict[str, bytes]:
    """One PNG per curve that the logs hold; a resume is marked where the resumed fit started."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pictures = {}
    for name, (train, val, label) in CURVES.items():
        trained, validated = history.column(train), history.column(val) if val else None
        if not len(trained) and (validated is None or not len(validated)):
            continue
        figure, axis = plt.subplots(figsize=(8, 4))
        if len(trained):
            axis.plot(trained["step"], trained[train], label=train, color="#4c72b0", linewidth=1.2)
        if validated is not None and len(validated):
            axis.plot(validated["step"], validated[val], "o-", label=val, color="#dd8452")
        for n, step in enumerate(history.resumed_at):
            axis.axvline(step, color="#999", linestyle=":", label="resumed" if n == 0 else None)
        axis.set_xlabel("step")
        axis.set_ylabel(label)
        axis.set_title(f"{label} — {history.run.name}")
        axis.grid(alpha=0.3)
        axis.legend()
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=100)
        plt.close(figure)
        pictures[name] = out.getvalue()
    return pictures


# -- text and HTML ----------------------------------------------------------------------------------------------

def summary_rows(report: RunReport) -> list[tuple[str, str]]:
    history = report.history
    rows = [("run", str(history.run))]
    for segment in history.segments:
        where = segment.path.relative_to(history.run).parent.as_posix()
        steps = f"steps {segment.first_step}–{segment.last_step}" if segment.first_step is not None \
            else "evaluation only"
        rows.append((where, f"{steps} ({segment.rows} rows)"))
    if history.resumed_at:
        rows.append(("resumed", ", ".join(f"before step {s}" for s in history.resumed_at)))
    for name in ("train_loss", "train_bpc", "val_loss", "val_bpc", "test_loss", "test_bpc"):
        value = history.last(name)
        if value is not None:
            rows.append((f"last {name}", f"{value:.4f}"))
    if report.best is not None:
        score = f", {report.best.monitor} {report.best.score:.4f}" if report.best.score is not None else ""
        path = report.best.path
        shown = f"{path} -> {path.resolve().name}" if path.is_symlink() else str(path)
        rows.append(("best checkpoint", f"{shown} (step {report.best.step}{score})"))
    return rows + [("note", note) for note in report.notes]


def format_text(report: RunReport) -> str:
    rows = summary_rows(report)
    width = max(len(key) for key, _ in rows)
    lines = [f"{key:<{width}}  {value}" for key, value in rows]
    if report.sample is not None:
        lines += ["", f"sample (seed {report.seed}):", report.sample]
    return "\n".join(lines)


def render_html(report: RunReport, pictures: dict[str, bytes]) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary_rows(report))
    figures = "".join(
        f'<figure id="curve-{name}"><img src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}" '
        f'alt="{html.escape(CURVES[name][2])}"><figcaption>{html.escape(CURVES[name][2])}</figcaption></figure>'
        for name, data in pictures.items())
    sample = "" if report.sample is None else (
        f"<h2>Sample from the best checkpoint (seed {report.seed})</h2><pre id=\"sample\">"
        f"{html.escape(report.sample)}</pre>")
    title = f"run {report.history.run.name}"
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "<style>body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:900px;padding:0 1em;color:#222}"
            "th{text-align:left;padding:.2em 1em .2em 0;vertical-align:top}td{padding:.2em 0}"
            "img{max-width:100%;border:1px solid #eee}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}"
            "</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table>{rows}</table><h2>Curves</h2>{figures}{sample}"
            "<p style=\"color:#666\">written by <code>python -m trainer report</code></p></body></html>\n")


def _write(path: Path, data: bytes, option: str) -> None:
    """Temporary file beside ``path``, then a rename: a reader never sees half a page."""
    temp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(data)
        os.replace(temp, path)
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot write it ({exc.strerror or exc})") from None
    finally:
        temp.unlink(missing_ok=True)


# -- the command ------------------------------------------------------------------------------------------------

def make_parser(prog: str = "python -m trainer report") -> argparse.ArgumentParser:
    parser = OneLineArgparse(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A run's loss, bits per character, learning rate and throughput curves from its CSV logs "
                    "(train and validation on one axis; one curve across an interrupted and resumed run), its best "
                    "checkpoint, and a seeded sample from it: PNGs, or one self-contained HTML page.",
        epilog=f"examples:\n  {prog} runs/debug\n  {prog} runs/debug --html runs/debug/report.html\n\n{EXIT_CODES}")
    parser.add_argument("run", type=Path, metavar="RUN_DIR", help="the folder the run logged into (e.g. runs/debug)")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write one HTML page (images inline) instead of PNGs")
    parser.add_argument("--png", type=Path, metavar="DIR",
                        help="write loss.png, bpc.png, lr.png, throughput.png here (default without --html: "
                             "RUN_DIR/report)")
    parser.add_argument("--checkpoints", type=Path, metavar="DIR",
                        help="the run's checkpoint.dirpath (default: RUN_DIR/checkpoints)")
    parser.add_argument("--prompt", default="", help="text the sample starts from (default: none)")
    parser.add_argument("--length", type=int, default=300, metavar="N", help="tokens of sample (default: 300)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (default: 0.8)")
    parser.add_argument("--seed", type=int, default=1234, help="same seed, same sample (default: 1234)")
    return parser


def main(argv: list[str], prog: str = "python -m trainer report") -> int:
    args = make_parser(prog).parse_args(argv)
    if args.length < 0:
        raise ConfigError(f"--length must be 0 or more, not {args.length}")
    report = build_report(args.run, args.checkpoints, prompt=args.prompt, length=args.length, seed=args.seed,
                          temperature=args.temperature)
    pictures = draw_curves(report.history)
    print(format_text(report))
    written = []
    if args.png is not None or args.html is None:
        folder = args.png if args.png is not None else args.run / "report"
        for name, data in pictures.items():
            _write(folder / f"{name}.png", data, "--png")
            written.append(str(folder / f"{name}.png"))
    if args.html is not None:
        _write(args.html, render_html(report, pictures).encode("utf-8"), "--html")
        written.append(str(args.html))
    print(f"\nwritten: {', '.join(written)}")
    return 0
