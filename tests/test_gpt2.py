"""Fine-tuning a pretrained GPT-2 from a local folder: a tiny randomly initialised one, saved with save_pretrained.

Nothing is downloaded: the folder is written here, with a byte-level BPE tokenizer learnt from our own
fixture text, exactly as ``save_pretrained`` writes the real ``gpt2``.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import tokenizers
import torch
import transformers
from test_bpe import fixture_texts

from trainer.cli import main
from trainer.sharing.generate import generate, load_model

CONFIG = """
seed_everything: 3
architecture: gpt
trainer:
  accelerator: cpu
  devices: 1
  max_steps: {max_steps}
  val_check_interval: {max_steps}
  limit_val_batches: 2
  num_sanity_val_steps: 0
  log_every_n_steps: 1
  enable_progress_bar: false
  enable_model_summary: false
  logger:
    - class_path: pytorch_lightning.loggers.CSVLogger
      init_args: {{save_dir: {run}, name: logs}}
checkpoint:
  dirpath: {run}/checkpoints
data:
  corpus: {corpus}
  mode: random
  seq_len: 32
  batch_size: 4
model:
  pretrained: {pretrained}
  dropout: 0.0
optimizer:
  class_path: torch.optim.AdamW
  init_args: {{lr: {lr}, weight_decay: 0.01}}
"""


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory) -> Path:
    return write_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


def write_tiny_gpt2(folder: Path) -> Path:
    """A GPT-2 of 2 blocks of width 32 with a 500-token byte-level BPE, in the save_pretrained layout."""
    bpe = tokenizers.Tokenizer(tokenizers.models.BPE())
    bpe.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = tokenizers.decoders.ByteLevel()
    bpe.train_from_iterator(fixture_texts(), tokenizers.trainers.BpeTrainer(
        vocab_size=500, special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = transformers.GPT2TokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>",
                                               bos_token="<|endoftext|>", unk_token="<|endoftext|>")
    end = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=2, bos_token_id=end,
        eos_token_id=end))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def fit(tmp_path: Path, corpus: Path, pretrained: Path, *, lr: float, max_steps: int, name: str) -> Path:
    run = tmp_path / name
    config = tmp_path / f"{name}.yaml"
    config.write_text(CONFIG.format(run=run, corpus=corpus, pretrained=pretrained, lr=lr, max_steps=max_steps))
    assert main(["fit", "--config", str(config)]) == 0
    return run


def train_losses(run: Path) -> list[float]:
    [metrics] = run.glob("logs/version_*/metrics.csv")
    return [float(r["train_loss"]) for r in csv.DictReader(open(metrics)) if r.get("train_loss")]


@pytest.mark.timeout(900)  # several training runs: slow on a loaded 2-core machine, not a hang
def test_a_tiny_gpt2_from_a_local_folder_fine_tunes_and_generates_without_its_folder(tiny_corpus, tiny_gpt2,
                                                                                     tmp_path, capsys):
    pretrained = transformers.GPT2LMHeadModel.from_pretrained(tiny_gpt2).state_dict()
    # a learning rate of 1e-9 (0 is refused): the weights that train are the folder's, not a fresh initialisation
    # (which would differ by about its 0.02 standard deviation)
    still = fit(tmp_path, tiny_corpus, tiny_gpt2, lr=1e-9, max_steps=2, name="still")
    weights = torch.load(still / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert all(torch.allclose(weights[f"network.model.{key}"], value, rtol=0, atol=1e-6)
               for key, value in pretrained.items() if f"network.model.{key}" in weights)
    assert sum(f"network.model.{key}" in weights for key in pretrained) >= len(pretrained) - 1  # tied head

    run = fit(tmp_path, tiny_corpus, tiny_gpt2, lr=0.01, max_steps=30, name="tuned")
    losses = train_losses(run)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.5, losses
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["vocabulary"]["kind"] == "bpe" and checkpoint["vocabulary"]["offset"] == 0  # GPT-2's own ids
    assert checkpoint["gutenberg_lstm"]["pretrained_config"]["n_embd"] == 32
    capsys.readouterr()
    assert main(["test", "--config", str(tmp_path / "tuned.yaml"), "--ckpt_path", "last"]) == 0
    assert "test_bpc" in capsys.readouterr().out

    moved = tmp_path / "gone"
    shutil.copytree(tiny_gpt2, moved)
    shutil.rmtree(tiny_gpt2)  # the checkpoint alone is enough to generate
    try:
        capsys.readouterr()
        argv = ["generate", "--ckpt", str(run / "checkpoints" / "last.ckpt"), "--prompt", "The rain", "--length",
                "80", "--seed", "4"]
        assert main(argv) == 0
        text = capsys.readouterr().out
        assert text.startswith("The rain") and len(text) > 20
        assert main(argv) == 0 and capsys.readouterr().out == text
        model, tokenizer = load_model(run / "checkpoints" / "last.ckpt")
        assert generate(model, tokenizer, "The rain", 80, seed=4) == text[len("The rain"):-1]
    finally:
        shutil.copytree(moved, tiny_gpt2)


@torch.no_grad()
def test_the_gpt2_kv_cache_matches_a_full_recomputation(tiny_gpt2):
    from trainer.training.module import GPTLanguageModel

    model = GPTLanguageModel(vocab_size=500, pretrained=str(tiny_gpt2), dropout=0.0).eval()
    assert model.block_size == 64
    tokens = torch.randint(0, 500, (1, 40))
    full, _ = model.network(tokens)
    logits, cache = model(tokens[:, :10])
    stepped = [logits]
    for position in range(10, 40):
        logits, cache = model(tokens[:, position:position + 1], cache)
        stepped.append(logits)
    assert torch.allclose(torch.cat(stepped, dim=1), full, atol=1e-5)


def test_a_pretrained_folder_that_is_not_a_model_is_a_one_line_error(tiny_corpus, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    config = tmp_path / "bad.yaml"
    config.write_text(CONFIG.format(run=tmp_path / "run", corpus=tiny_corpus, pretrained=empty, lr=0.01, max_steps=2))
    assert main(["fit", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"model.pretrained {empty}: no tokenizer there" in err and len(err.splitlines()) == 1
