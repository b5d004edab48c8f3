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
