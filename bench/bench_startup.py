"""Start-up a user feels: how long each command takes to answer, against ``python -c 'import torch'``.

    python bench/bench_startup.py [--repeat 5]

Each command runs in a fresh process, ``--repeat`` times (the best and the median are printed, and
the best's ratio to the floor). The floor is ``python -c 'import torch'``: every trainer command needs
torch, so nothing can answer faster. ``--help`` of every command, ``--version`` and ``generate`` should
stay near the floor; ``fit`` imports Lightning (the one command that trains pays for it), shown as
``import pytorch_lightning`` beside. ``generate`` runs on an untrained checkpoint written here (its
speed does not depend on the weights), for 50 characters.

Timings move with the machine and with what else runs on it: run on an idle machine, and read the
ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def untrained_checkpoint(folder: Path) -> Path:
    """A real checkpoint of a small untrained LSTM, written as the trainer writes one (checksum included)."""
    sys.path.insert(0, str(REPO))
    from trainer.checkpoint import save_checkpoint
    from trainer.data.tokenizer import UNK, CharTokenizer
    from trainer.training.module import CHECKPOINT_FORMAT, LSTMLanguageModel

    tokenizer = CharTokenizer([UNK, *"abcdefghijklmnopqrstuvwxyz .,\n"])
    model = LSTMLanguageModel(vocab_size=tokenizer.vocab_size, embedding_size=32, hidden_size=64, num_layers=1,
                              vocabulary=tokenizer.to_dict())
    path = folder / "untrained.ckpt"
    save_checkpoint({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                     "vocabulary": tokenizer.to_dict(),
                     "gutenberg_lstm": {"format": CHECKPOINT_FORMAT, "corpus": None}}, path)
    return path


def timed(argv: list[str], repeat: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore")
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        seconds.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(f"error: {' '.join(argv[1:])} failed: {result.stderr.strip()[-300:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description="Start-up time of each command against import torch.")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = untrained_checkpoint(Path(folder))
        commands = {
            "import torch (the floor)": [python, "-c", "import torch"],
            "import pytorch_lightning": [python, "-c", "import pytorch_lightning"],
            "trainer --help": [python, "-m", "trainer", "--help"],
            "trainer --version": [python, "-m", "trainer", "--version"],
            "trainer fit --help": [python, "-m", "trainer", "fit", "--help"],
            "trainer validate --help": [python, "-m", "trainer", "validate", "--help"],
            "trainer generate --help": [python, "-m", "trainer", "generate", "--help"],
            "trainer serve --help": [python, "-m", "trainer", "serve", "--help"],
            "trainer export --help": [python, "-m", "trainer", "export", "--help"],
            "trainer generate (50 chars)": [python, "-m", "trainer", "generate", "--ckpt", str(checkpoint),
                                            "--length", "50", "--seed", "1"],
            "trainer fit --help-all (Lightning)": [python, "-m", "trainer", "fit", "--help-all"],
        }
        results = {name: timed(argv, args.repeat) for name, argv in commands.items()}
    floor = min(results["import torch (the floor)"])
    print(f"load average {os.getloadavg()[0]:.2f}, {args.repeat} runs each\n")
    print(f"{'command':<38} {'best s':>7} {'median s':>9} {'best / floor':>13}")
    for name, seconds in results.items():
        print(f"{name:<38} {min(seconds):7.2f} {statistics.median(seconds):9.2f} {min(seconds) / floor:12.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
