"""``python -m pipeline clean`` over real files, start-up included, against gutenberg-dammit's cleaner.

    python bench/bench_clean_cli.py [--standin ../shared/gutenberg] [--files 65] [--repeat 3]
                                    [--dammit PATH]

Takes the first --files real Gutenberg texts of the stand-in's pool2/ then pool/ (sorted by name,
one file per name), and times three commands, each in a fresh process, start-up included, best of
--repeat wall-clock runs; the runs alternate (one of each per round, in a rotating order) so that a
change in the machine's load hits all three alike:

- ``python -m pipeline clean -o OUTDIR FILE...``: decode, clean, write each file;
- gutenberg-dammit's cleaner (https://github.com/aparrish/gutenberg-dammit): a ``python -c`` process
  that reads each file, decodes it as gutenberg-dammit's own ``get_plain_text`` does (latin-1: its
  loop returns on the first encoding it tries), runs ``gutenbergdammit.textcleaner.TextCleaner().
  clean_text`` and writes the result;
- the baseline: a ``python -c`` process that only reads, decodes (latin-1) and writes the same files.

gutenberg-dammit is not on the package index; it is imported from this environment, or from the
folder given by --dammit (the folder holding ``gutenbergdammit/``, added to that process's
PYTHONPATH). Where it cannot be imported its line says "not run" and how to get it. The closing
ratio is gutenberg-dammit's seconds over the pipeline's: above 1, ``pipeline clean`` is faster
(issue 19 asks for at least 1). Timings move with the machine and with what else runs on it: run
on an idle machine (the load average is printed first), and read the ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAMMIT_URL = "https://github.com/aparrish/gutenberg-dammit"

# argv: OUTDIR FILE...; gutenberg-dammit's get_plain_text decodes every text as latin-1, so both do.
_READ_DECODE_WRITE = """
import sys
from pathlib import Path
out = Path(sys.argv[1])
for name in sys.argv[2:]:
    text = Path(name).read_bytes().decode("latin-1")
    (out / Path(name).name).write_text(text, encoding="utf-8")
"""
_DAMMIT_CLEAN = """
import sys
from pathlib import Path
from gutenbergdammit.textcleaner import TextCleaner
cleaner = TextCleaner()
out = Path(sys.argv[1])
for name in sys.argv[2:]:
    text = Path(name).read_bytes().decode("latin-1")
    (out / Path(name).name).write_text(cleaner.clean_text(text), encoding="utf-8")
"""


def real_files(standin: Path, count: int) -> list[Path]:
    """The first ``count`` texts of pool2/ then pool/, sorted, skipping a name already taken (one OUTDIR)."""
    chosen: dict[str, Path] = {}
    for folder in ("pool2", "pool"):
        for path in sorted((standin / folder).glob("*.txt")):
            if len(chosen) < count and path.name not in chosen:
                chosen[path.name] = path
    return list(chosen.values())


def dammit_missing(env: dict[str, str]) -> str | None:
    """Why gutenberg-dammit's cleaner cannot run here, or None when it can."""
    probe = subprocess.run([sys.executable, "-c", "import gutenbergdammit.textcleaner"], env=env,
                           capture_output=True, text=True)
    if probe.returncode == 0:
        return None
    reason = (probe.stderr.strip().splitlines() or ["import failed"])[-1]
    return (f"{reason}; git clone {DAMMIT_URL} and pass --dammit PATH/gutenberg-dammit "
            f"(the folder holding gutenbergdammit/)")


def run_once(argv: list[str], env: dict[str, str], outdir: Path, files: list[Path]) -> float:
    """Wall-clock seconds of one fresh process that writes every file into an empty ``outdir``."""
    outdir.mkdir()
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(argv[:4])} ... failed (exit {result.returncode}): {result.stderr.strip()[-300:]}")
    written = sorted(path.name for path in outdir.iterdir())
    if written != sorted(path.name for path in files):
        sys.exit(f"error: {' '.join(argv[:4])} ... wrote {len(written)} of {len(files)} files")
    for path in outdir.iterdir():
        path.unlink()
    outdir.rmdir()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--standin", type=Path, default=REPO.parent / "shared" / "gutenberg",
                        help="the shared Gutenberg folder holding pool2/ and pool/ (default: ../shared/gutenberg)")
    parser.add_argument("--files", type=int, default=65, metavar="N", help="how many real files (default: 65)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="runs of each command; the best counts (3)")
    parser.add_argument("--dammit", type=Path, metavar="PATH",
                        help="folder holding gutenbergdammit/ (a clone of gutenberg-dammit), when not installed")
    args = parser.parse_args()
    if args.files < 1 or args.repeat < 1:
        sys.exit("error: --files and --repeat must be at least 1")
    files = real_files(args.standin, args.files)
    if not files:
        sys.exit(f"error: no texts under {args.standin}/pool2 or {args.standin}/pool; pass --standin DIR")
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    names = [str(path.resolve()) for path in files]

    plain_env = dict(os.environ, PYTHONWARNINGS="ignore")
    pipeline_env = dict(plain_env, PYTHONPATH=str(REPO))
    dammit_env = dict(plain_env)
    if args.dammit is not None:
        dammit_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(args.dammit.resolve()),
                                                                 os.environ.get("PYTHONPATH")]))
    missing = dammit_missing(dammit_env)

    commands = {  # label -> argv without OUTDIR and files, environment
        "read + decode + write (baseline)": ([sys.executable, "-c", _READ_DECODE_WRITE], plain_env),
        "python -m pipeline clean -o OUTDIR": ([sys.executable, "-m", "pipeline", "clean", "-o"], pipeline_env),
    }
    if missing is None:
        commands["gutenberg-dammit TextCleaner"] = ([sys.executable, "-c", _DAMMIT_CLEAN], dammit_env)
    best = {label: float("inf") for label in commands}
    labels = list(commands)
    with tempfile.TemporaryDirectory(prefix="bench-clean-cli-") as scratch:
        for round_ in range(args.repeat):
            for label in labels[round_ % len(labels):] + labels[:round_ % len(labels)]:
                argv, env = commands[label]
                seconds = run_once([*argv, str(Path(scratch) / "out"), *names], env, Path(scratch) / "out", files)
                best[label] = min(best[label], seconds)

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{len(files)} files ({files[0].parent.name}/{files[0].name} ... {files[-1].parent.name}/{files[-1].name}), "
          f"{megabytes:.1f} MB; fresh process each, start-up included; best of {args.repeat}; "
          f"load average {load}\n")
    baseline = best["read + decode + write (baseline)"]
    print(f"{'':38} {'MB':>6} {'files':>6} {'seconds':>8} {'MB/s':>7} {'vs baseline':>12}")
    for label, seconds in best.items():
        print(f"{label:38} {megabytes:6.1f} {len(files):6d} {seconds:8.2f} {megabytes / seconds:7.1f} "
              f"{baseline / seconds:11.2f}x")
    if missing is not None:
        print(f"{'gutenberg-dammit TextCleaner':38} not run: {missing}")
        return
    ratio = best["gutenberg-dammit TextCleaner"] / best["python -m pipeline clean -o OUTDIR"]
    print(f"\npipeline clean vs gutenberg-dammit: {ratio:.2f}x (above 1: pipeline clean is faster; "
          f"issue 19 asks for at least 1)")


if __name__ == "__main__":
    main()
