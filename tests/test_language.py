"""The language stage: chunk sampling, the vote, the metadata prior, the passage filter."""

from __future__ import annotations

from fake_gutenberg import french, prose

from pipeline.corpus.language import (
    CHUNK_CHARS,
    CHUNKS,
    ChunkVote,
    LanguageVerdict,
    analyse_language,
    detect_passages,
    foreign_runs,
    judge,
    remove_spans,
    sample_chunks,
    vote,
)


def test_a_book_is_judged_by_about_ten_chunks_of_about_two_thousand_characters_whatever_its_length():
    short, long = prose(1, paragraphs=80), prose(2, paragraphs=8000)
    for text in (short, long):
        chunks = sample_chunks(text)
        assert len(chunks) == CHUNKS
        assert all(CHUNK_CHARS - 100 <= len(c) <= CHUNK_CHARS for c in chunks)
    # spread over the whole book: the last chunk comes from its end
    assert long.rstrip().endswith(sample_chunks(long)[-1][-50:])


def test_a_short_book_is_read_whole_in_fewer_chunks():
    text = prose(3, paragraphs=10)  # about 3,600 characters
    chunks = sample_chunks(text)
    assert 1 <= len(chunks) < CHUNKS
    assert sum(len(c) for c in chunks) >= len(text) - 200


def test_english_and_french_books_are_told_apart_and_the_verdict_is_repeatable():
    english, fr = analyse_language(prose(4)), analyse_language(french(4))
    assert judge(english, ["en"], ["en"]).wanted_share == 1.0
    assert judge(fr, ["en"], ["fr"]).wanted_share == 0.0
    assert judge(fr, ["fr"], ["fr"]).detected == "fr"
    assert analyse_language(prose(4)).to_record() == english.to_record()


def test_a_bilingual_book_has_a_share_for_each_language():
    half = prose(5, paragraphs=40) + "\n\n" + french(5, paragraphs=40)
    shares = analyse_language(half).shares()
    assert 0.3 <= shares["en"] <= 0.7 and 0.3 <= shares["fr"] <= 0.7
    assert judge(analyse_language(half), ["en", "fr"], []).wanted_share == 1.0


def test_the_metadata_language_settles_only_the_chunks_langdetect_is_unsure_of():
    unsure = [("nl", 0.55), ("en", 0.44)]
    sure = [("nl", 0.97), ("en", 0.03)]
    assert vote(unsure, ["en"]) == "en"
    assert vote(unsure, []) == "nl"
    assert vote(sure, ["en"]) == "nl"  # a wrong declaration does not overrule a clear verdict
    assert vote([], ["en"]) == "unknown"


def test_disagreement_with_the_metadata_is_recorded():
    verdict = LanguageVerdict([ChunkVote(2000, [("en", 0.99)])] * 10)
    assert judge(verdict, ["en"], ["fr"]).disagrees
    assert not judge(verdict, ["en"], ["en"]).disagrees
    assert not judge(verdict, ["en"], []).disagrees  # no metadata, nothing to disagree with


def test_the_passage_filter_cuts_runs_of_foreign_paragraphs_and_keeps_a_lone_quotation():
    english = prose(6, paragraphs=6).split("\n\n")
    foreign = french(6, paragraphs=4).split("\n\n")
    quote = french(7, paragraphs=1)
    text = "\n\n".join(english[:3] + foreign[:3] + english[3:5] + [quote] + english[5:])
    runs = foreign_runs(detect_passages(text), ["en"])
    assert len(runs) == 1 and runs[0][2] == "fr"
    kept = remove_spans(text, runs)
    assert all(p not in kept for p in foreign[:3])
    assert quote in kept and all(p in kept for p in english)


def test_ctrl_c_while_langdetect_loads_its_profiles_is_an_interrupt_not_a_profile_error(monkeypatch):
    import pytest
    from langdetect.lang_detect_exception import LangDetectException

    import pipeline.corpus.language as language

    def interrupted_load():
        try:
            raise KeyboardInterrupt
        except BaseException:  # what langdetect's loader does with anything, Ctrl-C included
            raise LangDetectException(0, 'Profile format error in "bg"')

    monkeypatch.setattr(language, "_factory", None)
    monkeypatch.setattr(language, "init_factory", interrupted_load)
    with pytest.raises(KeyboardInterrupt):
        language._detector_factory()
    assert language._factory is None


def test_the_known_languages_are_listed_without_loading_the_profiles(monkeypatch):
    import pipeline.corpus.language as language

    monkeypatch.setattr(language, "_factory", None)
    listed = language.known_languages()
    assert language._factory is None  # a config check in the main process does not pay ~55 MB
    assert {"en", "fr", "de", "zh-cn"} <= listed
    assert listed == set(language._detector_factory().get_lang_list())
