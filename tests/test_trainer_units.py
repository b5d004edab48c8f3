"""The trainer's parts on their own: tokenizers, batches, token cache, checkpoints, sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainer.checkpoint import load_checkpoint
from trainer.cli import main
from trainer.data.corpus import Corpus, encode_corpus
from trainer.data.datamodule import CarriedBatches
from trainer.data.tokenizer import CharTokenizer, WordTokenizer
from trainer.errors import CheckpointError
from trainer.sharing.generate import SamplingConfig, generate, pick
from trainer.training.module import LSTMLanguageModel


def test_the_char_tokenizer_round_trips_and_maps_unseen_characters_to_unknown():
    tokenizer = CharTokenizer.build(["hello world", "éééé"])
    assert tokenizer.symbols[:2] == ["<unk>", "é"]  # most frequent first
    ids = tokenizer.encode("hello é")
    assert tokenizer.decode(ids) == "hello é"
    assert tokenizer.encode("z€").tolist() == [0, 0]
    again = CharTokenizer(tokenizer.to_dict()["symbols"])
    assert again.encode("hello").tolist() == ids[:5].tolist()


def test_the_word_tokenizer_keeps_the_most_frequent_words():
    tokenizer = WordTokenizer.build(["the cat sat. the dog sat.\nthe end"], max_vocab=4)
    assert tokenizer.symbols == ["<unk>", "the", ".", "sat"]
    assert tokenizer.decode(tokenizer.encode("the dog sat.")) == "the \ufffd sat."


def test_carried_batches_give_each_rank_its_own_rows_that_continue_from_batch_to_batch():
    tokens = np.arange(1000, dtype=np.uint16)
    ranks = [CarriedBatches(tokens, batch_size=3, seq_len=10, rank=r, world_size=2) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == (999 // 6) // 10
    seen = [set(), set()]
    for r, batches in enumerate(ranks):
        previous = None
        for x, y, index in batches:
            assert x.shape == y.shape == (3, 10) and torch.equal(x[:, 1:], y[:, :-1])
            if previous is not None:
                assert torch.equal(x[:, 0], previous[:, -1])  # the next columns of the same rows
            previous = y
            seen[r].update(x.flatten().tolist())
    assert not seen[0] & seen[1]


def test_a_resumed_pass_starts_at_the_saved_batch_then_the_next_pass_from_the_start():
    batches = CarriedBatches(np.arange(500, dtype=np.uint16), batch_size=2, seq_len=5)
    batches.start = 7
    assert [i for _, _, i in batches][0] == 7
    assert [i for _, _, i in batches][0] == 0


def test_splits_are_encoded_once_and_cached_by_tokenizer(tiny_corpus):
    corpus = Corpus.open(tiny_corpus)
    first = encode_corpus(corpus, "char")
    stamp = (first.folder / "train.bin").stat().st_mtime_ns
    again = encode_corpus(corpus, "char")
    assert again.folder == first.folder and (again.folder / "train.bin").stat().st_mtime_ns == stamp
    words = encode_corpus(corpus, "word", max_vocab=100)
    assert words.folder != first.folder and words.tokenizer.vocab_size == 100
    text = corpus.separator.join(corpus.texts("val"))
    assert first.tokenizer.decode(first.tokens("val")) == "".join(
        c if c in first.tokenizer.symbols else "\ufffd" for c in text)
    assert first.meta["dtype"] == "uint16" and first.meta["splits"]["val"]["chars"] == len(text)


def tiny_model() -> tuple[LSTMLanguageModel, CharTokenizer]:
    torch.manual_seed(0)
    tokenizer = CharTokenizer.build(["abcdefghijklmnopqrstuvwxyz .,\n"])
    model = LSTMLanguageModel(vocab_size=tokenizer.vocab_size, embedding_size=8, hidden_size=16, num_layers=1,
                              dropout=0.0, vocabulary=tokenizer.to_dict())
    return model.eval(), tokenizer


def test_sampling_is_repeatable_with_a_seed_and_greedy_at_temperature_zero():
    model, tokenizer = tiny_model()
    one = generate(model, tokenizer, "it all began", 60, SamplingConfig(temperature=1.0, top_k=10, top_p=0.9), seed=1)
    assert one == generate(model, tokenizer, "it all began", 60, SamplingConfig(temperature=1.0, top_k=10, top_p=0.9),
                           seed=1)
    assert len(one) == 60
    assert one != generate(model, tokenizer, "it all began", 60, SamplingConfig(temperature=1.0), seed=2)
    greedy = generate(model, tokenizer, "it all began", 40, SamplingConfig(temperature=0), seed=1)
    assert greedy == generate(model, tokenizer, "it all began", 40, SamplingConfig(temperature=0), seed=99)
    assert greedy == generate(model, tokenizer, "it all began", 40, SamplingConfig(temperature=1.0, top_k=1), seed=5)


def test_top_p_keeps_only_the_nucleus_and_the_repetition_penalty_lowers_recent_tokens():
    logits = torch.log(torch.tensor([0.0001, 0.6, 0.3, 0.0999]))
    picks = {pick(logits, SamplingConfig(temperature=1.0, top_p=0.8), [], torch.Generator().manual_seed(s))
             for s in range(200)}
    assert picks == {1, 2}
    flat = torch.tensor([0.0, 2.0, 1.9, -5.0])
    assert pick(flat, SamplingConfig(temperature=0, repetition_penalty=1.5), [1], None) == 2


def save_checkpoint(model: LSTMLanguageModel, path) -> None:
    torch.save({"gutenberg_lstm": {"format": 1}, "state_dict": model.state_dict(),
                "hyper_parameters": dict(model.hparams), "vocabulary": model.vocabulary}, path)


def test_generate_streams_text_from_a_checkpoint(tmp_path, capsys):
    model, _ = tiny_model()
    save_checkpoint(model, tmp_path / "model.ckpt")
    argv = ["generate", "--ckpt", str(tmp_path / "model.ckpt"), "--prompt", "it all began", "--length", "50",
            "--temperature", "0.8", "--top-k", "40", "--top-p", "0.95", "--seed", "1"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    assert capsys.readouterr().out == first and first.startswith("it all began") and len(first) == 12 + 50 + 1


@pytest.mark.parametrize("content, message", [
    (b"not a checkpoint at all", "is not a readable checkpoint"),
    (None, "was not written by this trainer"),
])
def test_corrupt_and_foreign_checkpoints_are_one_line_errors(tmp_path, capsys, content, message):
    path = tmp_path / "bad.ckpt"
    if content is None:
        torch.save({"state_dict": {}, "epoch": 3}, path)  # some other project's checkpoint
    else:
        path.write_bytes(content)
    assert main(["generate", "--ckpt", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_checkpoints_load_only_as_weights(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this ran while loading",))

    path = tmp_path / "evil.ckpt"
    torch.save({"gutenberg_lstm": {"format": 1}, "state_dict": {}, "x": Payload()}, path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)
    truncated = tmp_path / "cut.ckpt"
    model, _ = tiny_model()
    save_checkpoint(model, truncated)
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(truncated)


@pytest.mark.parametrize("argv, message", [
    (["--temperature", "nan"], "--temperature must be a finite number"),
    (["--repetition-penalty", "inf"], "--repetition-penalty must be a finite number"),
    (["--top-p", "0"], "--top-p must be more than 0"),
    (["--length", "abc"], "argument --length: invalid int value"),
    (["--device", "cuda:99"], "no such CUDA device here"),
    (["--device", "toaster"], "is not a device"),
])
def test_generate_mistakes_are_one_line(tmp_path, capsys, argv, message):
    model, _ = tiny_model()
    save_checkpoint(model, tmp_path / "model.ckpt")
    assert main(["generate", "--ckpt", str(tmp_path / "model.ckpt"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_corpus_that_cannot_be_written_caches_its_tokens_in_the_users_cache(tiny_corpus, tmp_path, monkeypatch):
    import trainer.data.corpus as corpus_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(corpus_module.os, "access", lambda path, mode: False)  # as on a read-only mount
    encoded = encode_corpus(Corpus.open(tiny_corpus), "word", max_vocab=50)
    assert encoded.folder.is_relative_to(tmp_path / "xdg" / "gutenberg-lstm" / "tokens")
    assert encoded.tokens("train").size > 0 and encoded.tokenizer.vocab_size == 50
