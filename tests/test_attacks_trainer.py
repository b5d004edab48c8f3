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


# -- 10. every bad input is one line, exit 2 ---------------------------------------------------------------------

def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def run_main(argv: list[str]) -> int:
    from trainer.cli import main
    try:
        return main(argv)
    except SystemExit as exit:
        return exit.code


def crafted(tiny_checkpoint, path: Path, change, *, checksum: bool = True) -> Path:
    """The tiny run's checkpoint changed by ``change``, with its checksum written anew (as an attacker who read
    checkpoint.py would) or removed."""
    import torch

    from trainer.checkpoint import CHECKSUM_KEY, content_digest, load_checkpoint
    checkpoint = change(dict(load_checkpoint(tiny_checkpoint)))
    checkpoint.pop(CHECKSUM_KEY, None)
    if checksum:
        checkpoint[CHECKSUM_KEY] = content_digest(checkpoint)
    torch.save(checkpoint, path)
    return path


def nan_weight(checkpoint: dict) -> dict:
    weights = dict(checkpoint["state_dict"])
    name = next(name for name in weights if name.endswith("weight_hh_l0"))
    weights[name] = weights[name].clone()
    weights[name][0, 0] = float("nan")
    return dict(checkpoint, state_dict=weights)


def without_hyper_parameters(checkpoint: dict) -> dict:
    checkpoint.pop("hyper_parameters")
    return dict(checkpoint, gutenberg_lstm={"format": 1})


def claims_format_1(checkpoint: dict) -> dict:  # a format-2 checkpoint, altered, then "downgraded" to pass unchecked
    return nan_weight(dict(checkpoint, gutenberg_lstm=dict(checkpoint["gutenberg_lstm"], format=1)))


@pytest.mark.parametrize("change, checksum, message", [
    (lambda c: {"gutenberg_lstm": 1, "state_dict": {}}, False, "its gutenberg_lstm record is int 1, not a mapping"),
    (lambda c: {"gutenberg_lstm": {"format": "x"}, "state_dict": {}}, False, "its format is 'x', not a checkpoint"),
    (lambda c: {"format": "x"}, False, "was not written by this trainer"),
    (lambda c: dict(c, gutenberg_lstm={"format": 1}, state_dict={}), False, "holds no weights"),
    (without_hyper_parameters, False, "has no hyper_parameters"),
    (nan_weight, True, "holds NaN or infinite weights (lstm.weight_hh_l0)"),
    (claims_format_1, False, "claims format 1 (no checksum) but holds what only later formats write (corpus)"),
    (lambda c: dict(c, gutenberg_lstm=dict(c["gutenberg_lstm"], format=3)), True, "is format 3, newer than"),
    (lambda c: dict(c, gutenberg_lstm=dict(c["gutenberg_lstm"], format=True)), True, "its format is True"),
    (lambda c: dict(c, vocabulary=[1, 2]), True, "its vocabulary is list, not a mapping"),
])
@pytest.mark.parametrize("command", ["generate", "fit"])
def test_a_crafted_checkpoint_is_one_line_before_any_work(tiny_checkpoint, tmp_path, capsys, change, checksum,
                                                          message, command):
    bad = crafted(tiny_checkpoint, tmp_path / "crafted.ckpt", change, checksum=checksum)
    if command == "generate":
        argv = ["generate", "--ckpt", str(bad), "--length", "5"]
    else:
        from model_fixtures import TINY_CONFIG
        config = tmp_path / "fit.yaml"
        # not a corpus: the checkpoint is refused before the corpus is even looked at
        config.write_text(TINY_CONFIG.format(run=tmp_path / "run", corpus=tmp_path))
        argv = ["fit", "--config", str(config), "--ckpt_path", str(bad)]
    assert run_main(argv) == 2
    line = one_error_line(capsys)
    assert str(bad) in line and message in line, line
    assert not list(tmp_path.glob("run/**/*.ckpt"))  # nothing was trained


def test_a_prompt_whose_bytes_are_not_utf8_is_one_line(tiny_checkpoint):
    from test_trainer import run_cli
    result = run_cli("generate", "--ckpt", str(tiny_checkpoint), "--length", "5", "--prompt", "caf\udce9 au lait")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == ("error: --prompt is not UTF-8 text (byte 0xe9 at character 3); give it in UTF-8 "
                                     "(a terminal or script in a UTF-8 locale, or convert it with iconv -t UTF-8)")
    assert result.stdout == ""


def fit_argv(tmp_path: Path, corpus: Path, *extra: str) -> list[str]:
    from model_fixtures import TINY_CONFIG
    config = tmp_path / "fit.yaml"
    config.write_text(TINY_CONFIG.format(run=tmp_path / "run", corpus=corpus))
    return ["fit", "--config", str(config), "--trainer.max_steps", "2", *extra]


def garbage_parquet(version: Path) -> None:
    (version / "train.parquet").write_bytes(bytes(range(256)) * 12)


def parquet_without_text(version: Path) -> None:
    import pyarrow.parquet as pq
    table = pq.read_table(version / "val.parquet")
    pq.write_table(table.drop_columns(["text"]), version / "val.parquet")


def parquet_of_numbers(version: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pq.read_table(version / "test.parquet")
    index = table.schema.get_field_index("text")
    pq.write_table(table.set_column(index, "text", pa.array(range(len(table)))), version / "test.parquet")


def parquet_with_a_null_text(version: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pq.read_table(version / "train.parquet")
    texts = table.column("text").to_pylist()
    index = table.schema.get_field_index("text")
    texts = pa.array([None, *texts[1:]], pa.string())
    pq.write_table(table.set_column(index, "text", texts), version / "train.parquet")


def manifest_edit(**changes):
    def damage(version: Path) -> None:
        manifest = json.loads((version / "manifest.json").read_text())
        for dotted, value in changes.items():
            *parents, last = dotted.split("__")
            target = manifest
            for key in parents:
                target = target[key]
            target[last] = value
        (version / "manifest.json").write_text(json.dumps(manifest))
    return damage


@pytest.mark.parametrize("damage, message", [
    (garbage_parquet, "train.parquet is damaged (Parquet magic bytes not found"),
    (parquet_without_text, "val.parquet is damaged (no text column of strings)"),
    (parquet_of_numbers, "test.parquet is damaged (its text column is int64)"),
    (parquet_with_a_null_text, "train.parquet is damaged (a book's text is null)"),
    (lambda v: (v / "manifest.json").write_bytes(b'{"splits": '), "manifest.json does not read as JSON"),
    (lambda v: (v / "manifest.json").write_text("[1, 2]"), "manifest.json is not a corpus manifest (it is list"),
    (manifest_edit(separator=7), "(separator is 7, not text)"),
    (manifest_edit(splits=[1, 2]), "(no splits)"),
    (manifest_edit(splits__train__books="many"), "(splits.train.books is 'many', not a count)"),
    (manifest_edit(splits__val=None), "(splits.val is NoneType, not an object)"),
    (manifest_edit(splits__val__parquet=5), "(splits.val.parquet is 5, not an object with a path)"),
    (manifest_edit(splits__test__parquet={"path": "../../elsewhere.parquet"}), "is outside the version folder"),
    (manifest_edit(content_key=["a"]), "(content_key is ['a'], not text)"),
])
def test_a_damaged_corpus_is_one_line_before_training(corpus_copy, tmp_path, capsys, damage, message):
    damage(corpus_copy)
    assert run_main(fit_argv(tmp_path, corpus_copy)) == 2
    line = one_error_line(capsys)
    assert message in line and "python -m pipeline build" in line, line
    assert not list(tmp_path.glob("run/**/*.ckpt"))  # nothing was trained


@pytest.mark.parametrize("override, message", [
    (["--optimizer.init_args.weight_decay", "-1"],
     "optimizer AdamW refuses optimizer.init_args.weight_decay (Invalid weight_decay value: -1.0)"),
    (["--optimizer.init_args.betas", "[2,3]"],
     "optimizer AdamW refuses optimizer.init_args.betas (Invalid beta parameter at index 0: 2.0)"),
    (["--optimizer.init_args.eps=-1e-8"], "optimizer AdamW refuses optimizer.init_args.eps"),
    (["--optimizer.init_args.lr", "-0.5"], "optimizer.init_args.lr must be a positive number, not -0.5"),
    (["--optimizer.init_args.lr", ".nan"], "optimizer.init_args.lr must be a positive number, not nan"),
    (["--optimizer.init_args.lr", ".inf"], "optimizer.init_args.lr must be a positive number, not inf"),
    (["--optimizer.init_args.weight_decay", ".inf"], "optimizer.init_args.weight_decay must be finite, not inf"),
    (["--optimizer", "torch.optim.SGD", "--optimizer.init_args.momentum", "-1"],
     "optimizer SGD refuses optimizer.init_args.momentum (Invalid momentum value: -1.0)"),
])
def test_bad_optimizer_values_are_one_line_before_the_corpus_is_read(tmp_path, capsys, override, message):
    assert run_main(fit_argv(tmp_path, tmp_path / "not-a-corpus", *override)) == 2
    line = one_error_line(capsys)
    assert message in line, line


def test_more_cpu_processes_than_cores_is_one_line_not_a_silent_kill(tiny_corpus, tmp_path):
    from model_fixtures import TINY_CONFIG
    from test_trainer import run_cli
    config = tmp_path / "fit.yaml"
    config.write_text(TINY_CONFIG.format(run=tmp_path / "run", corpus=tiny_corpus))
    result = run_cli("fit", "--config", str(config), "--trainer.devices", "99", timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in result.stderr
    assert line.startswith("error: trainer.devices 99: this run is on the CPU, which has ") and \
        "use --trainer.devices 1" in line, line
    assert not list(tmp_path.glob("run/**/*.ckpt"))  # nothing was trained


@pytest.fixture
def immutable_folder(tmp_path):
    """A folder nobody can write into, root included (root ignores mode bits; not the immutable attribute)."""
    import os
    import subprocess
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)]).returncode != 0:
            pytest.skip("root without chattr +i: no folder here is unwritable to this test")
    yield folder
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)])
    folder.chmod(0o755)


def test_a_checkpoint_folder_that_cannot_be_used_is_one_line_before_training(tiny_corpus, tmp_path, capsys,
                                                                             immutable_folder):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for dirpath, message in [
        (a_file, f"checkpoint.dirpath {a_file} is a file, not a folder; give another --checkpoint.dirpath"),
        (a_file / "sub", f"checkpoint.dirpath {a_file / 'sub'}: cannot create the folder (a part of that path "
                         f"is a file)"),
        (immutable_folder / "checkpoints", f"checkpoint.dirpath {immutable_folder / 'checkpoints'}: cannot create "
                                           f"the folder ("),
        (immutable_folder, f"checkpoint.dirpath {immutable_folder}: cannot write there ("),
    ]:
        assert run_main(fit_argv(tmp_path, tiny_corpus, "--checkpoint.dirpath", str(dirpath))) == 2
        line = one_error_line(capsys)
        assert message in line, line
    assert not (tmp_path / "run").exists()  # no logs: nothing was trained


def test_a_full_disk_for_checkpoints_is_one_line_before_training(tiny_corpus, tmp_path, capsys, monkeypatch):
    import errno
    import os
    from collections import namedtuple

    from trainer import checkpoint as checkpoint_module
    dirpath = tmp_path / "checkpoints"

    def full(fd):  # a write on a full disk fails where the blocks are allocated
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(checkpoint_module.os, "fsync", full)
        assert run_main(fit_argv(tmp_path, tiny_corpus, "--checkpoint.dirpath", str(dirpath))) == 2
    assert f"checkpoint.dirpath {dirpath}: cannot write there (No space left on device); free some space" in \
        one_error_line(capsys)
    assert list(dirpath.iterdir()) == []  # the probe is gone

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(checkpoint_module.shutil, "disk_usage", lambda path: usage(10 ** 9, 10 ** 9 - 4096, 4096))
    assert run_main(fit_argv(tmp_path, tiny_corpus, "--checkpoint.dirpath", str(dirpath))) == 2
    line = one_error_line(capsys)
    assert f"checkpoint.dirpath {dirpath}: 4.1 KB free on its disk, and this model's best and last checkpoints " \
           f"need about" in line, line
    assert not list(dirpath.glob("*.ckpt"))


def test_a_model_too_large_for_the_machine_is_refused_with_what_it_needs(tiny_corpus, tmp_path, capsys):
    from trainer.checkpoint import size
    from trainer.models.memory import memory
    assert run_main(fit_argv(tmp_path, tiny_corpus, "--model.hidden_size", str(10 ** 6))) == 2
    line = one_error_line(capsys)
    available, total = memory()
    assert line.startswith("error: the model is too large for this machine: vocabulary ") and \
        "model.hidden_size 1,000,000 and model.num_layers 2 make 12,000,096," in line, line
    assert "48.0 TB for the weights alone and about 192.0 TB to train them" in line, line
    assert f"this machine has {size(total)} of memory" in line and "lower model.hidden_size" in line, line
    assert not list(tmp_path.glob("run/**/*.ckpt"))  # nothing was trained


def test_the_transformer_too_is_measured_before_it_is_built():
    from trainer.errors import ConfigError
    from trainer.models.gpt import GPTNetwork
    with pytest.raises(ConfigError, match=r"model.n_embd 1,048,576 make [\d,]+ parameters, [\d.]+ TB for the weights"):
        GPTNetwork(vocab_size=100, block_size=64, n_layer=4, n_head=1, n_embd=1 << 20)
    assert sum(p.numel() for p in GPTNetwork(vocab_size=100, n_embd=32, n_layer=1).parameters()) > 0


BILLION_LAUGHS = "".join(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
                         for previous, name in zip("abcdefgh", "bcdefghi"))
BILLION_LAUGHS = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + BILLION_LAUGHS


@pytest.mark.parametrize("content, message", [
    (None, "--config /dev/zero is over 1 MiB, and a config is a few KB"),
    (BILLION_LAUGHS.encode(), "its YAML aliases expand to over 100,000 values (an alias bomb?)"),
    (b"data:\n  corpus: caf\xe9\n", "is not UTF-8 text (byte 0xe9 at offset 19); save it as UTF-8"),
    (b"a: &a [1, *a]\n", "a YAML alias contains itself"),
    (b"a: " + b"[" * 3000 + b"]" * 3000 + b"\n", "nests too deep to read"),
])
def test_a_hostile_config_file_is_one_line_at_once(tiny_corpus, tmp_path, content, message):
    from test_trainer import run_cli
    if content is None:
        config = Path("/dev/zero")
    else:
        config = tmp_path / "hostile.yaml"
        config.write_bytes(content)
    good = tmp_path / "fit.yaml"
    good.write_text(f"data:\n  corpus: {tiny_corpus}\n")
    result = run_cli("fit", "--config", str(good), "--config", str(config), timeout=60)  # today: hangs, or killed
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and result.stderr.count("error:") == 1, result.stderr
    assert f"error: --config {config}" in result.stderr and message in result.stderr, result.stderr


def test_an_alias_bomb_given_as_text_is_refused_too(capsys):
    assert run_main(["fit", f"--config={BILLION_LAUGHS}"]) == 2
    assert "its YAML aliases expand to over 100,000 values" in one_error_line(capsys)


def test_configs_with_a_few_aliases_still_read():
    from trainer.config_files import check_config
    text = "defaults: &d {lr: 0.01, betas: [0.9, 0.99]}\noptimizer: {init_args: *d}\nother: *d\n"
    assert check_config(text) == text
