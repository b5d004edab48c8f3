"""Export: the ONNX file run by onnxruntime and the TorchScript file run by torch give the checkpoint's
model's logits and carried state to 1e-4 over 50 steps; the vocabulary JSON beside them decodes the same."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from trainer.cli import main
from trainer.sharing.generate import load_model

STEPS = 50
TOLERANCE = 1e-4


def run_onnx(path):
    onnxruntime = pytest.importorskip("onnxruntime", reason="the export extra is not installed")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["tokens", "h", "c"]

    def step(tokens, h, c):
        outputs = session.run(None, {"tokens": tokens.numpy(), "h": h.numpy(), "c": c.numpy()})
        return [torch.from_numpy(np.asarray(o)) for o in outputs]

    return step


def run_torchscript(path):
    module = torch.jit.load(str(path))

    def step(tokens, h, c):
        with torch.no_grad():
            return list(module(tokens, h, c))

    return step


@pytest.mark.parametrize("fmt, suffix, runtime", [("onnx", ".onnx", run_onnx), ("torchscript", ".pt", run_torchscript)])
@pytest.mark.parametrize("batch", [1, 3])
def test_the_exported_model_matches_the_checkpoint_over_50_steps_of_carried_state(tiny_checkpoint, tmp_path, fmt,
                                                                                   suffix, runtime, batch):
    if fmt == "onnx":
        pytest.importorskip("onnx", reason="the export extra is not installed")
    out = tmp_path / f"model{suffix}"
    assert main(["export", "--ckpt", str(tiny_checkpoint), "--format", fmt, "-o", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "model.vocab.json"])  # no temp files
    step = runtime(out)
    model, tokenizer = load_model(tiny_checkpoint)
    layers, width = model.lstm.num_layers, model.lstm.hidden_size
    generator = torch.Generator().manual_seed(batch)
    h = torch.zeros(layers, batch, width)
    c = torch.zeros(layers, batch, width)
    ours = (h, c)
    tokens = torch.tensor([tokenizer.encode("The ship came down").tolist()] * batch)  # a prompt, read in one call
    worst = 0.0
    with torch.no_grad():
        for index in range(STEPS + 1):
            if index:
                tokens = torch.randint(1, tokenizer.vocab_size, (batch, 1), generator=generator)
            logits, ours = model(tokens, ours)
            exported_logits, h, c = step(tokens, h, c)
            assert exported_logits.shape == logits.shape
            for expected, got in ((logits, exported_logits), (ours[0], h), (ours[1], c)):
                worst = max(worst, float((expected - got).abs().max()))
    assert worst < TOLERANCE, worst
    assert float(ours[0].abs().max()) > 0.01  # the state really was carried, not left at zero
    vocabulary = json.loads((tmp_path / "model.vocab.json").read_text(encoding="utf-8"))
    assert vocabulary["symbols"] == tokenizer.symbols and vocabulary["kind"] == "char"
    assert (vocabulary["num_layers"], vocabulary["hidden_size"]) == (layers, width)


@pytest.mark.parametrize("argv, message", [
    (["--format", "onnx", "-o", "{tmp}/m.onnx", "--ckpt", "{tmp}/missing.ckpt"], "no checkpoint at"),
    (["--format", "torchscript", "-o", "{tmp}", "--ckpt", "{ckpt}"], "is a folder"),
    (["--format", "tflite", "-o", "{tmp}/m", "--ckpt", "{ckpt}"], "invalid choice"),
    (["--format", "torchscript", "--page", "-o", "{tmp}/m.pt", "--ckpt", "{ckpt}"], "--page needs --format onnx"),
    (["--format", "onnx", "--ckpt", "{ckpt}"], "required: -o/--output"),
])
def test_export_mistakes_are_one_line_errors(tiny_checkpoint, tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path, ckpt=tiny_checkpoint) for a in argv]
    assert main(["export", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_a_corrupt_checkpoint_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["export", "--ckpt", str(bad), "--format", "torchscript", "-o", str(tmp_path / "m.pt")]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ckpt"]
