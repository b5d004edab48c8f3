"""Byte-level BPE: exact round trips (our fixtures and the stand-in books), the token cache, training and generating."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch
from conftest import STANDIN

from trainer.cli import main
from trainer.data.bpe import BPETokenizer
from trainer.data.corpus import Corpus, encode_corpus
from trainer.data.tokenizer import tokenizer_from_dict

FIXTURE_BOOK = (
    "CHAPTER I.\r\n\r\nThe Martians came at dawn.  \u201cNo,\u201d said Dr. M\u00fcller, \u2018not yet\u2019\u2014and "
    "the na\u00efve crew of the _Argonaut_ stared.\n\n\tIndented\tline with tabs;   three spaces.\n"
    "Fran\u00e7ais: \u00e9t\u00e9, \u0153uvre.  Deutsch: Stra\u00dfe.  "
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac."
    "  \u65e5\u672c\u8a9e.  \U0001f680 rocket.\n"
    "A literal <unk> and <|endoftext|> in a book stay text.\u00a0No-break space, soft\u00adhyphen, \u200bzero width.\n"
    "   \n\n\n\nTHE END\n"
)


def fixture_texts() -> list[str]:
    prose = ("It was a dark and stormy night on the fourth planet; the rain fell in torrents, except at occasional "
             "intervals, when it was checked by a violent gust of wind. ") * 30
    return [prose, FIXTURE_BOOK, prose.upper(), FIXTURE_BOOK * 3]


def test_bpe_round_trips_every_character_of_our_fixture_books_even_unseen_ones():
    tokenizer = BPETokenizer.build(fixture_texts()[:1], max_vocab=400)  # learnt from English prose only
    assert 300 < tokenizer.vocab_size <= 400 and tokenizer.unknown_id == 0  # fewer if the text runs out of pairs
    for text in fixture_texts() + ["", "\n", " ", "\u00e9", "\U0001f680\U0001f680"]:
        ids = tokenizer.encode(text)
        assert 0 not in ids.tolist()  # nothing is unknown to byte-level BPE
        assert tokenizer.decode(ids) == text
    prose = fixture_texts()[0]
    assert len(tokenizer.encode(prose)) < len(prose) / 3  # the merges were learnt: several characters a token


def test_the_tokenizer_travels_as_a_plain_dict_and_streams_split_characters_whole():
    tokenizer = BPETokenizer.build(fixture_texts(), max_vocab=300)
    state = tokenizer.to_dict()
    assert state["kind"] == "bpe" and isinstance(state["tokenizer"], str)
    again = tokenizer_from_dict(state)
    assert isinstance(again, BPETokenizer) and again.encode(FIXTURE_BOOK).tolist() == \
        tokenizer.encode(FIXTURE_BOOK).tolist()
    ids = tokenizer.encode("\u65e5\U0001f680")  # 7 bytes: unlikely merged in a 300-token vocabulary
    assert len(ids) > 2
    decode = again.stream_decoder()
    assert "".join(decode(int(i), None) for i in ids) == "\u65e5\U0001f680"
    assert "\ufffd" in "".join(again.decode_next(int(i), None) for i in ids)  # why the stream decoder exists


def standin_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted((STANDIN / "site").rglob("pg*.txt")) + sorted((STANDIN / "pool").rglob("*.txt")):
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                texts.append((path.name, raw.decode(encoding)))
                break
            except UnicodeDecodeError:
                continue
    return texts


@pytest.mark.skipif(not (STANDIN / "site").is_dir(), reason="no ../shared/gutenberg here")
def test_bpe_round_trips_the_stand_in_books():
    books = standin_texts()
    assert len(books) > 200
    # learnt from a few English books, then every book of the stand-in site and pool (16 languages, every era
    # and encoding): the whole of four books, the first 40,000 characters of the rest, to keep the test quick
    tokenizer = BPETokenizer.build((text for _, text in books[:4]), max_vocab=2048)
    for n, (name, text) in enumerate(books):
        sample = text if n < 4 else text[:40_000]
        assert tokenizer.decode(tokenizer.encode(sample)) == sample, name


def test_a_bpe_token_cache_decodes_to_the_corpus_text_and_counts_its_characters(tiny_corpus):
    corpus = Corpus.open(tiny_corpus)
    encoded = encode_corpus(corpus, "bpe", max_vocab=320)
    assert encoded.tokenizer.vocab_size == 320 and encoded.meta["tokenizer"]["kind"] == "bpe"
    text = corpus.separator.join(corpus.texts("val"))
    assert encoded.tokenizer.decode(encoded.tokens("val")) == text
    assert encoded.meta["splits"]["val"]["chars"] == len(text)  # characters of the text, not tokens
    assert encoded.tokens_per_char("val") < 0.7
    again = encode_corpus(corpus, "bpe", max_vocab=320)
    assert again.folder == encoded.folder
    assert encode_corpus(corpus, "bpe", max_vocab=300).folder != encoded.folder


def test_a_max_vocab_below_the_bytes_is_a_one_line_error(tiny_corpus, tmp_path, capsys):
    assert main(["fit", "--config", str(Path(__file__).parents[1] / "configs" / "debug.yaml"), "--data.corpus",
                 str(tiny_corpus), "--data.tokenizer", "bpe", "--data.max_vocab", "100",
                 "--checkpoint.dirpath", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "data.max_vocab 100 is too small for bpe" in err and len(err.splitlines()) == 1


@pytest.mark.timeout(900)  # several training runs: slow on a loaded 2-core machine, not a hang
@pytest.mark.parametrize("config", ["debug.yaml", "debug-gpt.yaml"])
def test_both_models_train_on_bpe_tokens_report_bits_per_character_and_generate(tiny_corpus, tmp_path, capsys,
                                                                                config):
    run = tmp_path / "run"
    argv = ["fit", "--config", str(Path(__file__).parents[1] / "configs" / config), "--data.corpus",
            str(tiny_corpus), "--data.tokenizer", "bpe", "--data.max_vocab", "320", "--data.seq_len", "32",
            "--trainer.max_steps", "10", "--trainer.val_check_interval", "10", "--checkpoint.dirpath",
            str(run / "checkpoints"), "--trainer.logger",
            '{"class_path": "pytorch_lightning.loggers.CSVLogger", "init_args": {"save_dir": "%s"}}' % run]
    assert main(argv) == 0
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["vocabulary"]["kind"] == "bpe"
    [metrics] = run.glob("lightning_logs/version_*/metrics.csv")
    [row] = [r for r in csv.DictReader(open(metrics)) if r.get("val_loss")]
    encoded = encode_corpus(Corpus.open(tiny_corpus), "bpe", max_vocab=320)
    expected = float(row["val_loss"]) / math.log(2) * encoded.tokens_per_char("val")
    assert abs(float(row["val_bpc"]) - expected) < 1e-4 and float(row["val_bpc"]) < float(row["val_loss"]) / \
        math.log(2)  # a token is more than one character
    capsys.readouterr()
    generate = ["generate", "--ckpt", str(run / "checkpoints" / "last.ckpt"), "--prompt", "The ", "--length", "40",
                "--seed", "2"]
    assert main(generate) == 0
    text = capsys.readouterr().out
    assert text.startswith("The ") and len(text) > 4 + 40  # 40 tokens, more than 40 characters
    assert main(generate) == 0 and capsys.readouterr().out == text
