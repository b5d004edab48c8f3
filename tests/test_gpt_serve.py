"""A Transformer on BPE tokens across the commands of issues 10 and 13: the checkpoint's own tokenizer,
serve (each choice with its own key/value cache) and export (refused in one line)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from model_fixtures import Server
from test_gpt import write_gpt_config
from test_trainer_cli import one_error_line, refreshed_copy, validate_loss

from trainer.cli import main
from trainer.sharing.generate import SamplingConfig, generate, load_model


@pytest.fixture(scope="module")
def bpe_gpt(tiny_corpus, tmp_path_factory) -> tuple[Path, Path]:
    """A config and the last checkpoint of a 12-step Transformer fit on 320 BPE tokens."""
    folder = tmp_path_factory.mktemp("bpe-gpt")
    config = write_gpt_config(folder / "fit.yaml", tiny_corpus, folder / "run")
    assert main(["fit", "--config", str(config), "--data.tokenizer", "bpe", "--data.max_vocab", "320"]) == 0
    return config, folder / "run" / "checkpoints" / "last.ckpt"


@pytest.mark.timeout(900)  # two validation runs and a BPE learnt again: slow on a loaded 2-core machine
def test_a_bpe_checkpoint_encodes_with_its_own_tokenizer_whatever_the_corpus_became(bpe_gpt, tiny_corpus, tmp_path,
                                                                                   capsys):
    config, checkpoint = bpe_gpt
    bpe = ["--data.tokenizer", "bpe", "--data.max_vocab", "320"]
    before, _ = validate_loss(capsys, "--config", str(config), *bpe, "--ckpt_path", str(checkpoint))
    refreshed = refreshed_copy(tiny_corpus, tmp_path)
    after, err = validate_loss(capsys, "--config", str(config), *bpe, "--ckpt_path", str(checkpoint),
                               "--data.corpus", str(refreshed))
    assert after == pytest.approx(before, abs=1e-6)  # same checkpoint, same val split: same loss
    assert "note: the checkpoint was trained on corpus version" in err
    [cache] = (refreshed / "tokens").iterdir()
    used = json.loads((cache / "meta.json").read_text())["tokenizer"]
    assert used == torch.load(checkpoint, weights_only=True)["vocabulary"]  # not a BPE learnt from the new text

    assert main(["validate", "--config", str(config), "--ckpt_path", str(checkpoint)]) == 2  # data.tokenizer: char
    line = one_error_line(capsys)
    assert "data.tokenizer asks for 'char'" in line and "trained with 'bpe'" in line


def test_a_gpt_checkpoint_given_to_an_lstm_config_is_one_line(bpe_gpt, tiny_corpus, tmp_path, capsys):
    from test_trainer import write_config

    config = write_config(tmp_path / "lstm.yaml", tiny_corpus, tmp_path / "run")
    assert main(["validate", "--config", str(config), "--ckpt_path", str(bpe_gpt[1])]) == 2
    assert "is a checkpoint of the gpt architecture" in one_error_line(capsys)


def test_export_refuses_a_gpt_checkpoint_in_one_line(bpe_gpt, tmp_path, capsys):
    assert main(["export", "--ckpt", str(bpe_gpt[1]), "--format", "torchscript", "-o", str(tmp_path / "m.pt")]) == 2
    assert "export writes LSTM checkpoints only" in one_error_line(capsys)
    assert not list(tmp_path.iterdir())


@pytest.mark.timeout(900)
def test_serve_writes_for_each_choice_what_generate_writes_with_its_seed(bpe_gpt, tmp_path):
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    _, checkpoint = bpe_gpt
    server = Server(checkpoint, tmp_path / "server.log", "--name", "gpt")
    try:
        body = {"model": "gpt", "prompt": ["The ship", "It was"], "max_tokens": 40, "n": 2, "seed": 9,
                "temperature": 0.9, "top_k": 30}
        request = urllib.request.Request(f"{server.url}/v1/completions", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as reply:
            choices = json.loads(reply.read())["choices"]
        model, tokenizer = load_model(checkpoint)
        config = SamplingConfig(temperature=0.9, top_k=30)
        expected = [generate(model, tokenizer, prompt, 40, config, seed=9 + index)
                    for index, prompt in enumerate(["The ship", "The ship", "It was", "It was"])]
        assert [choice["text"] for choice in sorted(choices, key=lambda c: c["index"])] == expected
        assert len(set(expected)) == 4  # each choice its own seed, and its own cache

        with pytest.raises(urllib.error.HTTPError) as refused:  # the page's in-browser model: an LSTM only
            urllib.request.urlopen(f"{server.url}/model.onnx", timeout=60)
        assert refused.value.code == 404
        assert "export writes LSTM checkpoints only" in json.loads(refused.value.read())["error"]["message"]
        assert server.alive()
    finally:
        server.stop()
