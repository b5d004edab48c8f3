"""The trainer attacked as issue 22 found it broken: each test is the attack, and what must hold."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from trainer.data.corpus import Corpus, encode_corpus


@pytest.fixture
def corpus_copy(tiny_corpus, tmp_path) -> Path:
    copy = tmp_path / "version"
    shutil.copytree(Path(tiny_corpus) / "current", copy, symlinks=False,
                    ignore=shutil.ignore_patterns("tokens"))
    return copy


# -- 8. the token cache is verified when opened -----------------------------------------------------------------

def damage_meta_garbage(folder: Path) -> None:
    (folder / "meta.json").write_bytes(b"\x00garbage{")


def damage_meta_empty(folder: Path) -> None:
    (folder / "meta.json").write_bytes(b"")


def damage_meta_missing(folder: Path) -> None:
    (folder / "meta.json").unlink()


def damage_out_of_range(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    data = np.fromfile(folder / "train.bin", dtype=meta["dtype"])
    data[3] = np.iinfo(meta["dtype"]).max
    data.tofile(folder / "train.bin")


def damage_truncated(folder: Path) -> None:
    path = folder / "train.bin"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damage_meta_types(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    meta["splits"]["train"]["tokens"] = "many"
    (folder / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("damage", [damage_meta_garbage, damage_meta_empty, damage_meta_missing, damage_out_of_range,
                                    damage_truncated, damage_meta_types])
def test_a_damaged_token_cache_is_encoded_again_with_one_warning(corpus_copy, caplog, damage):
    first = encode_corpus(Corpus.open(corpus_copy))
    whole = np.array(first.tokens("train"))
    damage(first.folder)
    with caplog.at_level(logging.WARNING):
        again = encode_corpus(Corpus.open(corpus_copy))
    warnings = [r for r in caplog.records if "token cache" in r.getMessage()]
    assert len(warnings) == 1 and "encoding the corpus again" in warnings[0].getMessage()
    assert np.array_equal(np.array(again.tokens("train")), whole)
    assert not [p for p in (corpus_copy / "tokens").iterdir() if p.name.startswith(".tmp-")]


def test_a_full_disk_while_encoding_leaves_no_temporary_folder(corpus_copy, monkeypatch):
    import errno

    from trainer.data import corpus as corpus_module
    from trainer.errors import CorpusError

    def full(fd):  # where a delayed allocation on a full disk is reported
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(corpus_module.os, "fsync", full)
    with pytest.raises(CorpusError, match="No space left on device"):
        corpus_module.encode_corpus(Corpus.open(corpus_copy))
    assert [p.name for p in (corpus_copy / "tokens").iterdir()] == []


# -- 9. a copied run folder uses its own checkpoints -------------------------------------------------------------

def test_a_copied_run_folder_finds_its_own_best_checkpoint_not_the_originals(tiny_checkpoint, tmp_path):
    from trainer.checkpoint import best_checkpoint, load_checkpoint
    original = tiny_checkpoint.parent
    state = next(s for k, s in load_checkpoint(tiny_checkpoint)["callbacks"].items() if k.startswith("ModelCheckpoint"))
    assert not Path(state["best_model_path"]).is_absolute() and "/" not in state["best_model_path"]
    copy = tmp_path / "moved" / "checkpoints"
    shutil.copytree(original, copy, symlinks=True)
    best = best_checkpoint(copy)
    assert best.parent == copy and best.is_file()  # with the original still in place
    shutil.rmtree(tmp_path / "moved")
    (tmp_path / "elsewhere").mkdir()
    shutil.copytree(original, tmp_path / "elsewhere" / "ckpts", symlinks=True)
    assert best_checkpoint(tmp_path / "elsewhere" / "ckpts").parent == tmp_path / "elsewhere" / "ckpts"


def test_a_resumed_run_restores_its_checkpoint_paths_in_the_folder_it_is_now_in(tmp_path):
    from trainer.training.callbacks import RunCheckpoint
    first = RunCheckpoint(dirpath=str(tmp_path / "a"))
    first.best_model_path = str(tmp_path / "a" / "best-step=10.ckpt")
    first.best_k_models = {first.best_model_path: 1.0}
    state = first.state_dict()
    assert state["best_model_path"] == "best-step=10.ckpt" and list(state["best_k_models"]) == ["best-step=10.ckpt"]
    moved = RunCheckpoint(dirpath=str(tmp_path / "b"))
    moved.load_state_dict(state)
    assert moved.best_model_path == str(tmp_path / "b" / "best-step=10.ckpt")
    assert list(moved.best_k_models) == [str(tmp_path / "b" / "best-step=10.ckpt")]


# -- 11. serve answers every bad request with 4xx ----------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tiny_checkpoint, tmp_path_factory):
    from model_fixtures import Server
    served = Server(tiny_checkpoint, tmp_path_factory.mktemp("serve-attacks") / "server.log")
    yield served
    served.stop()


@pytest.mark.parametrize("body, where", [
    (b'{"prompt": "\\ud800", "max_tokens": 2}', "lone surrogate"),
    (b'{"prompt": "a", "user": "\\udfff\\ud800"}', "lone surrogate"),
    (b'{"prompt": ' + b"[" * 2500 + b"]" * 2500 + b"}", "nests deeper"),
    (b'{"prompt": "a", "stream_options": ' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"}", "nests deeper"),
    (b'{"prompt": "a", "max_tokens": 2, "temperature": 1e-40}', "temperature"),
    (b'{"prompt": "a", "max_tokens": 2, "temperature": 1e-320}', "temperature"),
])
def test_hostile_requests_get_a_4xx_and_the_server_keeps_serving(server, body, where):
    import requests
    answer = requests.post(f"{server.url}/v1/completions", data=body, headers={"Content-Type": "application/json"},
                           timeout=30)
    assert 400 <= answer.status_code < 500, answer.text
    assert where in answer.json()["error"]["message"]
    ok = requests.post(f"{server.url}/v1/completions", json={"prompt": "The ", "max_tokens": 3}, timeout=30)
    assert ok.status_code == 200 and server.alive()


@pytest.mark.parametrize("temperature", ["1e-40", "1e-320", "0.001"])
def test_generate_refuses_a_temperature_that_would_overflow_in_one_line(tiny_checkpoint, capsys, temperature):
    from trainer.cli import main
    try:
        code = main(["generate", "--ckpt", str(tiny_checkpoint), "--temperature", temperature, "--length", "5"])
    except SystemExit as exit:
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--temperature must be 0 (greedy) or from 0.01" in err, err
