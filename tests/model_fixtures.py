"""A tiny trained checkpoint for the tests of serve, export and the page: a real, short Lightning fit."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_CONFIG = """
seed_everything: 3
trainer:
  accelerator: cpu
  devices: 1
  max_steps: 30
  val_check_interval: 10
  limit_val_batches: 2
  num_sanity_val_steps: 0
  enable_progress_bar: false
  enable_model_summary: false
  logger: false
  default_root_dir: {run}   # LightningCLI writes config.yaml here, not in the current folder
checkpoint:
  dirpath: {run}/checkpoints
data:
  corpus: {corpus}
  seq_len: 32
  batch_size: 8
model:
  embedding_size: 16
  hidden_size: 48
  num_layers: 2
  dropout: 0.0
optimizer:
  class_path: torch.optim.AdamW
  init_args: {{lr: 0.01}}
"""


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_corpus, tmp_path_factory) -> Path:
    """``last.ckpt`` of a 30-step character-level fit on the tests' tiny corpus (a few seconds on CPU)."""
    from trainer.cli import main

    run = tmp_path_factory.mktemp("tiny-run")
    config = run / "tiny.yaml"
    config.write_text(TINY_CONFIG.format(run=run, corpus=tiny_corpus))
    assert main(["fit", "--config", str(config)]) == 0
    checkpoint = run / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    return checkpoint


class Server:
    """``python -m trainer serve`` in a child process on 127.0.0.1, port picked by the server itself."""

    def __init__(self, checkpoint: Path, log: Path, *options: str, env: dict | None = None):
        import os
        import subprocess
        import sys

        repo = Path(__file__).resolve().parents[1]
        env = dict(os.environ, PYTHONPATH=str(repo), PYTHONWARNINGS="ignore", **(env or {}))
        self.log = log
        self._log_handle = open(log, "w")
        self.process = subprocess.Popen([sys.executable, "-m", "trainer", "serve", "--ckpt", str(checkpoint),
                                         "--port", "0", *options], cwd=repo, env=env, stdout=self._log_handle,
                                        stderr=subprocess.STDOUT)
        self.url = self._wait_for_url()

    def _wait_for_url(self, timeout: float = 180) -> str:
        import re
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"at (http://127\.0\.0\.1:\d+)/ ", self.log.read_text())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        raise AssertionError(f"the server did not start in {timeout} s: {self.log.read_text()[-2000:]}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except Exception:
            self.process.kill()
            self.process.wait()
        self._log_handle.close()
