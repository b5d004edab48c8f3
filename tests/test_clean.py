"""The cleaner on fixtures of every era, written for these tests."""

from __future__ import annotations

import pytest
from gutenberg_formats import (
    BODY,
    FIRST,
    LAST,
    POEM,
    era_1990s,
    era_2002,
    era_2010,
    era_2024,
    fields_only,
    footer_2010,
    header_2010,
)

from pipeline.clean.cleaner import CleanOptions, clean, clean_text, explain, looks_binary
from pipeline.clean.decode import decode


def body_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def assert_is_body(result, first=FIRST, last=LAST) -> None:
    lines = body_lines(result.text)
    assert lines[0] == first and lines[-1] == last, (lines[:3], lines[-3:])
    for leftover in ("Gutenberg", "Produced by", "pgdp", "SMALL PRINT", "LICENSE", "eBook", "Etext", "Credits"):
        assert leftover not in result.text, leftover


# -- eras of header and footer ---------------------------------------------------------------------

@pytest.mark.parametrize("make", [era_1990s, era_2002, era_2010, era_2024, fields_only],
                         ids=["1990s", "2002", "2010", "2024", "fields-only"])
def test_every_era_comes_out_as_the_body(make):
    result = clean(make().encode("utf-8"))
    assert_is_body(result)
    assert result.text == BODY  # whole, as printed, nothing added or reflowed


def test_start_marker_without_spaces_and_footer_with_only_end_marker():
    text = (header_2010(start="***START OF THE PROJECT GUTENBERG EBOOK THE LANTERN OF KEPLER STATION***")
            + BODY + "\n\n\n***END OF THE PROJECT GUTENBERG EBOOK THE LANTERN OF KEPLER STATION***\n\n"
            "******* This file should be named 90004.txt or 90004.zip *******\n")
    assert_is_body(clean(text.encode()))


def test_a_start_marker_wrapped_over_two_lines_or_indented():
    wrapped = header_2010(start="*** START OF THIS PROJECT GUTENBERG EBOOK THE LANTERN OF\nKEPLER STATION ***")
    assert_is_body(clean((wrapped + BODY + footer_2010()).encode()))
    indented = header_2010(start="    *** START OF THIS PROJECT GUTENBERG EBOOK THE LANTERN OF KEPLER STATION ***")
    assert_is_body(clean((indented + BODY + footer_2010()).encode()))


@pytest.mark.parametrize("end_line", [
    "End of Project Gutenberg's The Lantern of Kepler Station, by Miriam Oduya",
    "End of Project Gutenberg’s The Lantern of Kepler Station, by Miriam Oduya",
    "      End of the Project Gutenberg EBook of The Lantern of Kepler Station",
    "Ende dieses Projekt Gutenberg Etextes \"Die Laterne\" von Miriam Oduya",
    "End of this Project Gutenberg Etext of The Lantern",
    "End of this Etext of The Lantern of Kepler Station",
    "Ende des Projekt Gutenberg Etextes \"Die Laterne\"",
])
def test_footer_lines_of_every_shape(end_line):
    assert_is_body(clean((header_2010() + BODY + footer_2010(end_line=end_line)).encode("utf-8")))


def test_an_indented_end_marker_alone_starts_the_footer():
    text = header_2010() + BODY + "\n\n      *** END OF THIS PROJECT GUTENBERG EBOOK THE LANTERN ***\n\nlicence\n"
    assert_is_body(clean(text.encode()))


def test_full_license_start_inside_a_footer_is_not_a_start_marker():
    result = clean(era_2010().encode())
    assert [c.rule for c in result.cuts].count("header") == 1
    assert result.text == BODY


def test_a_poem_in_a_full_header_and_footer_comes_out_as_the_poem():
    result = clean(era_2010(body=POEM + "\n").encode())
    assert result.text == POEM + "\n"
    assert result.flags == []


# -- credits and notes -------------------------------------------------------------------------------

@pytest.mark.parametrize("credits", [
    "Produced by Ines Varga and the Online Distributed\nProofreading Team at http://www.pgdp.net",
    "E-text prepared by Ines Varga and the Project Gutenberg Online\nDistributed Proofreading Team",
    "This etext was produced by Ines Varga, Nairobi, from the 1931\nOrbit House edition.",
    "This Project Gutenberg Etext was prepared by Ines Varga.",
    "Credits: Ines Varga and the Online Distributed Proofreading Team",
    "Charles Franks and the Online Distributed Proofreading Team.",
    "Note: Project Gutenberg also has an HTML version of this\n      file which includes the original illustrations.",
    "Produced by Ines Varga. HTML version by Al Haines.",
    "Transcribed from the 1931 Orbit House edition by Ines Varga, email\niv@example.org",
    "Note: Images of the original pages are available through Internet\nArchive. See "
    "https://archive.org/details/lanternkepler00odu",
    "Illustrated HTML file produced by Ines Varga.",
])
def test_production_credits_of_every_shape_are_cut(credits):
    result = clean(era_2010(credits=credits + "\n").encode())
    assert result.text == BODY
    assert "credits" in [c.rule for c in result.cuts]


NOTE_TOP = {
    "headed": "Transcriber's Note:\n\nThis etext was produced from Orbit Stories May 1931. Minor\n"
              "spelling and typographical errors have been corrected without note.\n",
    "curly-plural": "TRANSCRIBER’S NOTES\n\n    Obvious printer's errors have been silently corrected.\n",
    "plural-apostrophe": "Transcribers' Notes: Hyphenation has been standardised.\n",
    "bracketed": "[Transcriber's Note: Extensive research did not uncover any evidence that\n"
                 "the U.S. copyright on this publication was renewed.]\n",
    "box": "+---------------------------------------------+\n|              Transcriber's Note             |\n"
           "|  Minor typographical errors were corrected.  |\n+---------------------------------------------+\n",
    "renewal": "Extensive research did not uncover any evidence that the U.S.\ncopyright on this publication was"
               " renewed.\n",
    "french": "Note du transcripteur : les fautes d'impression ont été corrigées.\n",
    "german": "Anmerkungen zur Transkription\n\nOffensichtliche Druckfehler wurden korrigiert.\n",
    "spanish": "Nota del transcriptor: se han corregido los errores tipográficos.\n",
}


@pytest.mark.parametrize("note", NOTE_TOP.values(), ids=NOTE_TOP.keys())
def test_transcribers_notes_at_the_top_are_cut(note):
    body = BODY.replace("By Miriam Oduya\n", "By Miriam Oduya\n\n\n" + note)
    result = clean(era_2010(body=body).encode("utf-8"))
    assert result.text == BODY  # the note and the blank lines after it go; the spacing before it stays
    assert any(c.rule in ("transcriber-note", "copyright-research", "credits") for c in result.cuts)


def test_a_bracketed_note_inside_a_line_is_cut_and_the_line_kept():
    body = BODY.replace("asked\non the morning", "asked [Transcriber's note: 'inquired' in the\nfirst edition]\n"
                                                  "on the morning")
    result = clean(era_2010(body=body).encode())
    assert "Tamsin asked\non the morning" in result.text
    assert "inquired" not in result.text


def test_a_bracketed_tn_note_inside_a_line_is_cut():
    body = BODY.replace("wick. Tamsin", "wick.[TN: 'week' in the original] Tamsin")
    assert clean(era_2010(body=body).encode()).text == BODY


def test_notes_set_off_by_a_unicode_rule_at_the_end_are_cut_with_the_rule():
    notes = ("\n\n\n────────────────────────────────────────\n\nTranscriber’s Notes\n\n"
             "Italic text is denoted by _underscores_.\n\nPunctuation has been standardised.\n")
    assert clean(era_2010(body=BODY + notes).encode("utf-8")).text == BODY


def test_a_list_of_corrected_typos_at_the_end_is_cut_to_the_footer():
    notes = ("\n\n\nTranscriber's Amendments\n\nThe following typographical errors have been corrected:\n\n"
             "Page 12: 'qaurtermaster' changed to 'quartermaster'\nPage 31: 'eveninng' changed to 'evening'\n")
    result = clean(era_2010(body=BODY + notes).encode())
    assert result.text == BODY


def test_an_unclosed_bracketed_note_ends_with_its_paragraph():
    body = BODY.replace("CHAPTER II", "    [Footnote A: Transcriber's Note: The following sentence was\n"
                                      "    missing from the magazine.\n\nCHAPTER II")
    result = clean(era_2010(body=body).encode())
    assert result.text == BODY


# -- what must stay ----------------------------------------------------------------------------------

@pytest.mark.parametrize("author_text", [
    "[TRANSLATOR'S NOTE: The remaining sheets are too broken to be legible.]",
    "[Footnote 1: This implement, invented in 2052, weighs close to a ton.]",
    "“Produced by the two suns,” said the astronomer.",
    "NOTE.  The substance of the chapter was first printed in a review.",
    "Ende dieses langen Tages erhob sich ein Sturm.",
    "Copyright, 1931, by Orbit House. All Rights Reserved.",
])
def test_author_text_that_looks_like_boilerplate_stays(author_text):
    body = BODY.replace("THE END\n", f"{author_text}\n\nTHE END\n")
    result = clean(era_2010(body=body).encode("utf-8"))
    assert author_text in result.text
    assert result.text == body


def test_the_end_with_text_after_it_is_not_an_ending():
    body = BODY.replace("CHAPTER II", "CHAPTER XVI\n\nTHE END\n\nThe end came quietly.\n\nCHAPTER II")
    assert clean(era_2010(body=body).encode()).text == body


def test_a_short_story_with_a_long_licence_is_kept_whole():
    story = "A SHORT ONE\n\nIt was over before it began.\n"
    result = clean((header_2010() + story + footer_2010() + LONG_LICENCE).encode())
    assert result.text == story


LONG_LICENCE = "\n".join(f"Section {i}. The licence goes on about things." for i in range(400)) + "\n"


# -- flags -------------------------------------------------------------------------------------------

def test_an_empty_result_is_flagged():
    result = clean((header_2010() + footer_2010()).encode())
    assert result.text == ""
    assert "empty after cleaning" in result.flags


def test_a_file_without_markers_is_kept_whole_and_flagged():
    result = clean(BODY.encode())
    assert result.text == BODY
    assert "no Gutenberg header found: kept from the first line" in result.flags
    assert "no Gutenberg footer found: kept to the last line" in result.flags


def test_rules_that_remove_most_of_the_body_are_flagged():
    notes = "\n\n".join(f"[Transcriber's note: correction number {i} to the printed text.]" for i in range(40))
    result = clean(era_2010(body="A TINY TALE\n\n" + notes + "\n\nIt ended.\n").encode())
    assert any("removed" in flag for flag in result.flags)


# -- decoding ----------------------------------------------------------------------------------------

def test_decoding_utf8_with_and_without_bom():
    text = era_2010(body=BODY.replace("Tamsin", "Tamsín")).replace("ASCII", "UTF-8")
    assert decode(text.encode("utf-8")).encoding == "utf-8"
    with_bom = decode(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert with_bom.encoding == "utf-8-sig" and with_bom.text == text


def test_declared_latin1_is_used():
    text = header_2010(encoding="ISO-8859-1") + "Café au lait, señor.\n" + footer_2010()
    decoded = decode(text.encode("latin-1"))
    assert decoded.encoding == "iso-8859-1" and "Café au lait, señor." in decoded.text


def test_declared_latin1_with_c1_bytes_is_cp1252():
    raw = (header_2010(encoding="ISO-8859-1") + "“Quoted” — and œuvre.\n" + footer_2010()).encode("cp1252")
    decoded = decode(raw)
    assert decoded.encoding == "cp1252" and "“Quoted” — and œuvre." in decoded.text


def test_undeclared_8bit_text_is_cp1252_and_never_replacement_characters():
    raw = b"It cost \x80 5 \x96 a d\xe9j\xe0 vu \x81 byte.\r\nNext line\rlast\n"
    decoded = decode(raw)
    assert decoded.encoding == "cp1252"
    assert decoded.text == "It cost € 5 – a déjà vu \x81 byte.\nNext line\nlast\n"
    assert "\ufffd" not in decoded.text


def test_declared_ascii_with_stray_latin1_bytes_decodes_them():
    raw = (header_2010(encoding="ASCII") + "forte and outr\xe9.\n").encode("latin-1")
    assert "outré." in decode(raw).text


def test_utf16_with_bom():
    assert decode("Hello\r\n".encode("utf-16")).text == "Hello\n"


def test_crlf_files_clean_like_lf_files():
    assert clean(era_2010().replace("\n", "\r\n").encode()).text == BODY


# -- audit -------------------------------------------------------------------------------------------

def test_every_cut_records_its_rule_and_input_lines():
    text = era_2010()
    lines = text.split("\n")
    result = clean(text.encode())
    header, credits, footer = result.cuts
    assert (header.rule, header.first_line) == ("header", 1)
    assert lines[header.last_line - 1].startswith("*** START OF THIS PROJECT GUTENBERG EBOOK")
    assert credits.rule == "credits" and lines[credits.first_line - 1].startswith("Produced by")
    assert footer.rule == "footer" and lines[footer.first_line - 1].startswith("End of the Project Gutenberg")
    assert footer.last_line == len(lines) - 1  # the file ends with a newline


def test_explain_shows_each_cut_with_context():
    text = era_2010()
    report = explain(text, clean(text.encode()), name="lantern.txt", context=1)
    assert report.startswith("lantern.txt (ascii): 3 cuts")
    assert "credits" in report and "- " in report and "Produced by Ines Varga" in report
    assert "THE LANTERN OF KEPLER STATION" in report  # the context line after the credits


# -- options -----------------------------------------------------------------------------------------

def test_options_remove_illustrations_footnotes_underscores():
    body = ("A TALE\n\n[Illustration: The lantern on the ridge,\nat dusk]\n\nShe was _very_ tired.[1]\n\n"
            "[Footnote 1: As the author notes [in the preface], sleep was rare.]\n\nIt ended.\n")
    options = CleanOptions(remove_illustrations=True, remove_footnotes=True, remove_underscores=True)
    result = clean_text(body, options)
    assert result.text == "A TALE\n\nShe was very tired.[1]\n\nIt ended.\n"
    assert {c.rule for c in result.cuts} == {"illustration", "footnote"}
    assert clean_text(body).text == body  # all off by default


def test_unwrap_joins_prose_but_keeps_verse():
    prose = ("The lantern had burned on the ridge above Kepler Station for eleven years,\n"
             "and in all that time nobody had asked who trimmed its wick. Tamsin asked\n"
             "on the morning the supply ship failed to come.")
    verse = "  Line one of the verse,\n  line two of the verse,\n  line three."
    result = clean_text(f"{prose}\n\n{verse}\n", CleanOptions(unwrap=True))
    assert result.text == " ".join(prose.split("\n")) + "\n\n" + verse + "\n"


def test_binary_input_is_recognised():
    assert looks_binary(b"PK\x03\x04\x00\x00binary")
    assert not looks_binary(era_2010().encode())


# -- author text near notes' words (found in review) ---------------------------------------------------

def novel(paragraphs: int, extra_at: int | None = None, extra: str = "") -> str:
    rows = [f"Paragraph {i} of the story, in which the hero walks on and on through\n"
            f"the long grey country of the north, thinking of home." for i in range(paragraphs)]
    if extra_at is not None:
        rows.insert(extra_at, extra)
    return "A LONG WALK\n\n" + "\n\n".join(rows) + "\n"


@pytest.mark.parametrize("phrase", [
    "Then the old man spoke the following words, slowly:",
    "In a democracy, he said, men of special characters rise to the top.",
    "Transcribed from the parish register, the entry read: born 1801.",
    "The following changes in the village struck him at once.",
])
def test_everyday_phrases_near_the_end_cut_nothing(phrase):
    body = novel(600, extra_at=500, extra=phrase)
    result = clean(era_2010(body=body).encode())
    assert result.text == body


def test_an_authors_endnotes_under_a_plain_heading_stay():
    notes = "\n\nNOTES\n\n" + "\n\n".join(
        f"{i}. The original of this letter is in the British Museum; see page {i + 11}." for i in range(1, 30)) + "\n"
    body = novel(600) + notes
    assert clean(era_2010(body=body).encode()).text == body


def test_a_one_line_note_in_a_short_story_takes_only_itself():
    note = "Transcriber's note: a page is missing here in the original."
    body = novel(40, extra_at=25, extra=note)
    assert clean(era_2010(body=body).encode()).text == novel(40)


def test_dialogue_after_a_mid_book_note_stays():
    dialogue = ('"You are quite correct," said Holmes.\n\n"Then the letter is missing?"\n\n'
                '"It was moved, and never fixed."\n\n')
    body = novel(300, extra_at=150, extra="Transcriber's Note:\n\nThe table on this page has been split.\n\n"
                                          + dialogue.rstrip())
    result = clean(era_2010(body=body).encode())
    assert dialogue.strip() in result.text
    assert "has been split" not in result.text


def test_a_stray_byte_in_a_utf8_book_does_not_garble_the_rest():
    raw = ("Character set encoding: UTF-8\n\n" + "Café, naïve, Zürich — “quoted”.\n" * 200).encode() + b"it\x92s\n"
    decoded = decode(raw)
    assert decoded.encoding == "utf-8+cp1252"
    assert decoded.text.endswith("Zürich — “quoted”.\nit’s\n")


@pytest.mark.parametrize("declared", ["base64", "UTF-16", "hex", "no-such-charset"])
def test_odd_declared_charsets_fall_back_to_cp1252(declared):
    decoded = decode(f"Character set encoding: {declared}\n\nCaf".encode() + b"\xe9 au lait!\n")
    assert decoded.encoding == "cp1252" and decoded.text.endswith("Café au lait!\n")


def test_utf16_is_not_binary():
    assert not looks_binary("A plain book.\n".encode("utf-16"))


def test_text_whose_lower_case_changes_length_takes_the_slow_path_to_the_same_result():
    # "İ" lower-cases to two code points, so offsets in a lower-cased copy would drift
    body = BODY.replace("Tamsin asked", "İlse and Tamsin asked")
    notes = "\n\n\nTranscriber's Note:\n\nMinor typographical errors have been corrected.\n"
    result = clean(era_2010(body=body + notes).encode("utf-8"))
    assert result.text == body


def test_a_corrections_list_takes_its_bare_notes_heading_along():
    notes = ("\n\n\nNotes:\n\nThe following corrections have been made to the text:\n\n"
             "p. 12: 'qaurtermaster' changed to 'quartermaster'\np. 31: 'eveninng' changed to 'evening'\n")
    result = clean(era_2010(body=novel(300) + notes).encode())
    assert result.text == novel(300)
    assert "corrections list" in [c.detail for c in result.cuts]


# -- decoding what is neither UTF-8 nor cp1252 -------------------------------------------------------

RUSSIAN = ("Все счастливые семьи похожи друг на друга, каждая несчастливая семья несчастлива по-своему.\n"
           "Всё смешалось в доме Облонских. Жена узнала, что муж был в связи с бывшею в их доме\n"
           "француженкою-гувернанткой, и объявила мужу, что не может жить с ним в одном доме.\n")
CHINESE = "這是一個測試。我們在這裡寫中文，天氣很好，大家都很高興。\n" * 20


@pytest.mark.parametrize("text,codec,expected", [
    (RUSSIAN, "koi8_r", "koi8-r"), (RUSSIAN, "cp1251", "cp1251"), (CHINESE, "big5", "big5")])
def test_undeclared_cyrillic_and_cjk_are_guessed_not_read_as_cp1252(text, codec, expected):
    decoded = decode(("The Project Gutenberg EBook of a test\n\n" + text).encode(codec))
    assert decoded.encoding == expected
    assert decoded.text.endswith(text)


def test_undeclared_latin_scripts_stay_cp1252_even_with_letters_side_by_side():
    text = "Þýðing og fæðing; Füße und Größe; la créée; naïve œuvre — “quoted”.\n" * 30
    decoded = decode(text.encode("cp1252"))
    assert decoded.encoding == "cp1252" and decoded.text == text


def test_a_declared_charset_wins_over_the_guess():
    raw = "Character set encoding: ISO-8859-5\n\n".encode() + RUSSIAN.encode("iso8859_5")
    decoded = decode(raw)
    assert decoded.encoding == "iso8859-5" and decoded.text.endswith(RUSSIAN)


# -- notes whose heading is not "Transcriber's Note" ---------------------------------------------------

def novel_with(notes: str, paragraphs: int = 300) -> str:
    return era_2010(body=novel(paragraphs) + notes)


@pytest.mark.parametrize("heading", [
    "Transcriberâ€™s Note:", "TranscriberaEuro(TM)s Note:", "Transcribers Notes", "Errata noted by transcriber:",
    "ERRATA (noted by transcriber)", "Errors and Inconsistencies (noted by transcriber)",
    "Paalala ng nagsalin:", "Nota del trascrittore:", "Notas de la transcripción:", "Liste des modifications:"])
def test_closing_notes_are_found_by_who_wrote_them_in_any_language_or_mangling(heading):
    notes = (f"\n\n\n{heading}\n\n  p. 12: qaurtermaster  [quartermaster]\n  p. 31: eveninng  [_final . missing_]\n"
             "  p. 40: «lanterne» par «lantern» (the lantern burned)\n")
    result = clean(novel_with(notes).encode())
    assert result.text == novel(300), heading
    assert any(c.rule == "transcriber-note" for c in result.cuts)


def test_a_corrections_list_with_subheadings_goes_whole():
    notes = ("\n\n\nErrata noted by transcriber:\n\nFront matter:\n\n  Peoples  [_body text has \"People\"_]\n"
             "  Celts &c.  [_final . missing_]\n\nMain Text:\n\n"
             "  less elaborate in its ornament.  [_final . missing_]\n"
             "  surfaces of the specimens  [_text has \"speci-/imens\"_]\n")
    assert clean(novel_with(notes).encode()).text == novel(300)


# -- 1990s and 2000s preambles ---------------------------------------------------------------------------

def test_a_2001_reissue_loses_fields_preamble_initialled_bracket_and_title_line():
    from gutenberg_formats import era_2001_fields
    result = clean(era_2001_fields().encode())
    assert result.text == BODY
    assert {c.rule for c in result.cuts} >= {"header", "credits", "footer"}


def test_every_etext_of_a_file_holding_two_is_kept_and_the_header_between_goes():
    from gutenberg_formats import era_1990s_two_etexts
    first, second = novel(40), novel(60).replace("Tamsin", "Orrin")
    result = clean(era_1990s_two_etexts(first, second).encode())
    assert body_lines(result.text) == body_lines(first) + body_lines(second)
    assert "SMALL PRINT" not in result.text and "lamp10" not in result.text
    assert "between two etexts" in " ".join(c.detail for c in result.cuts)


def test_a_sectioned_italian_preamble_goes_as_one_run_and_the_poem_stays():
    from gutenberg_formats import LIBER_LIBER_PREAMBLE
    poem = "CANTO PRIMO\n\n1\nLe donne, i cavallier, l'arme, gli amori,\nle cortesie, l'audaci imprese io canto.\n"
    result = clean(era_1990s(LIBER_LIBER_PREAMBLE + poem).encode())
    assert result.text == poem


def test_a_producers_paragraph_does_not_take_a_title_page_set_between_credits():
    body = ("Produced by Ines Varga\n\n\n" + "                 THE LANTERN OF KEPLER STATION\n\n"
            "                        By Miriam Oduya\n\n"
            "This etext was produced from the 1931 Orbit House edition.\n\n\n" + BODY.split("\n", 4)[4])
    result = clean(era_2010(body=body, credits="").encode())
    assert "THE LANTERN OF KEPLER STATION" in result.text and "By Miriam Oduya" in result.text
    assert "Orbit House edition" not in result.text


# -- notes that name no transcriber ------------------------------------------------------------------------

@pytest.mark.parametrize("note", [
    "  Au lecteur\n\n  Cette version numérisée reproduit, dans son intégralité,\n  la version originale.\n\n"
    "  L'orthographe a été conservée. Seuls quelques mots ont été modifiés.\n",
    "  * Se ha modernizado la ortografía original.\n"
    "  * Los errores obvios de imprenta han sido corregidos sin avisar.\n"
    "  * Se ha añadido un Índice del que carece el original impreso.\n",
    "The listed errata have been corrected, as have obvious typos. The spelling of\n"
    "the original has been retained.\n\nNormal text within italic passages is denoted ~like this~.\n",
    "Superscripted characters are preceded by the ^caret, as in 1^{st}.\n\n"
    "[#] footnotes moved to the end of each chapter but NOT renumbered.\n",
    "[This text is intended for users whose text readers cannot use the\n\"real\" (Unicode/UTF-8) version.\n\n"
    "Major changes include:\n  accents on French words are missing\n  the degree sign is written as \"deg\"]\n",
])
def test_a_producers_note_before_the_title_goes_without_a_heading(note):
    result = clean(era_2010(body=note + "\n\n" + BODY).encode())
    assert result.text == BODY


def test_an_authors_preface_on_editions_and_an_italic_byline_stay():
    preface = ("PREFACE\n\nIn this edition the spelling of the original has been retained, and the misprints\n"
               "of the first printing were corrected by the author himself.\n\n"
               "13. _A Tale of a Tub_, written by _Myself_ Esq; Price 6 _d._\n\n"
               "For these reasons the Council commissioned Mr. Rooke to transcribe the notes; this\n"
               "transcription forms the contents of this book.\n\n")
    body = BODY.replace("CHAPTER I\n", preface + "CHAPTER I\n")
    assert clean(era_2010(body=body).encode()).text == body


# -- what a producer put inside the text ---------------------------------------------------------------------

def test_scanning_credits_in_brackets_go_and_an_illustration_about_submission_stays():
    credit = ("[Chapters 1-6: mostly scanned by Ines Varga, iv@example.edu,\n"
              "submitted on 9/24/93.]\n\n")
    caption = "[Illustration: SAMPLES BEING SUBMITTED TO THE TASTERS]\n\n"
    body = BODY.replace("CHAPTER I\n", credit + caption + "CHAPTER I\n")
    result = clean(era_1990s(body).encode())
    assert "scanned by" not in result.text and "SUBMITTED TO THE TASTERS" in result.text
    assert "credits" in [c.rule for c in result.cuts]


def test_producer_comments_in_braces_go_and_the_authors_braces_stay():
    body = BODY.replace(
        "who did not believe it either.",
        "who did not believe it either. {several sentences are missing here in the omnibus edition}\n"
        "The {bracketed words of the author} stay, and so does {1}.")
    result = clean(era_2010(body=body).encode())
    assert "omnibus" not in result.text
    assert "who did not believe it either.\nThe {bracketed words of the author} stay, and so does {1}." in result.text
    assert "producer-comment" in [c.rule for c in result.cuts]


def test_part_markers_of_the_producer_go():
    body = BODY.replace("CHAPTER II\n", "                 The Lantern of Kepler Station:Pt2\n\n\nCHAPTER II\n")
    result = clean(era_2010(body=body).encode())
    assert result.text == BODY
    assert ":Pt2" not in result.text and "part-marker" in [c.rule for c in result.cuts]


# -- lists and notes that close the book -----------------------------------------------------------------------

STARS = "\n\n\n       *       *       *       *       *\n\n"


@pytest.mark.parametrize("notes", [
    "Errata\n\n  Portae non gehennae  [nôn]\n  When nox gives way to lux of morning  [lûx]\n\n"
    "  ... the writer's aim will be / accomplished\n    [_lack of closing punctuation may be intentional_]\n",
    "Errata:\n\n  The List of Editors was despeckled in scanning.\n\nPart 3:\n\n  Names the Nymph that I adore.\n"
    "    _text reads \"Npmph\"_\n",
    "Typographical errors corrected by the etext transcriber:\n\nin a very simply way=> in a very simple way {pg 68}\n"
    "Goldaming=> Godalming {pg 226}\n",
    "  [ Im folgenden werden alle geänderten Textzeilen angeführt, zuerst die Zeile\n    wie im Original.\n\n"
    "  der Welt gesehen, war Anno 13 vierspännig\n  der Welt gesehen, war Anno 1813 vierspännig\n  ]\n",
    "  Au lecteur.\n\n    Ce livre électronique reproduit intégralement le texte original.\n\n"
    "    Page 11: «dan» remplacé par «dans» (dans son petit lit).\n",
])
def test_the_etexts_closing_lists_go_by_the_shape_of_their_rows(notes):
    assert clean(novel_with(STARS + notes).encode()).text == novel(300)


def test_a_printed_errata_list_stays():
    errata = ("\n\nERRATA\n\nPage 12, line 3, for 'lanthorn' read 'lantern'.\n"
              "Page 31, line 9, for 'wick' read 'wicks'.\n")
    result = clean(novel_with(errata).encode())
    assert result.text.endswith("ERRATA\n\nPage 12, line 3, for 'lanthorn' read 'lantern'.\n"
                                "Page 31, line 9, for 'wick' read 'wicks'.\n")


def test_a_long_table_in_plus_minus_borders_is_not_a_note_box():
    table = "\n\n+----------------------+\n| Device | Corrections to the partition table |\n" + "".join(
        f"| hda{i} | primary partition {i} |\n" for i in range(200)) + "+----------------------+\n\n"
    body = novel(100) + table + novel(100)
    assert "primary partition 199" in clean(era_2010(body=body).encode()).text


def test_an_anonymous_volunteers_credit_and_a_world_library_notice_go():
    notice = ("<<THIS ELECTRONIC VERSION OF THE LANTERN OF KEPLER STATION IS COPYRIGHT 1993 BY\n"
              "WORLD LIBRARY, INC., AND IS PROVIDED BY PROJECT GUTENBERG ETEXT WITH PERMISSION.>>\n\n\n")
    body = BODY.replace("CHAPTER II\n", notice + "CHAPTER II\n")
    result = clean(era_2010(body=body, credits="An Anonymous Volunteer, and Ines Varga\n").encode())
    assert result.text == BODY


def test_a_footnote_the_transcriber_wrote_goes_whole_and_its_reference_stays():
    body = BODY.replace("either.\n", "either.[1]\n\n    [1] Transcriber's Note: The original read \"who did not\n"
                                     "    believe it neither.\"\n")
    result = clean(era_2010(body=body).encode())
    assert "original read" not in result.text and "believe it neither" not in result.text
    assert "either.[1]\n" in result.text


def test_a_producers_source_citation_goes_and_a_bibliography_with_addresses_stays():
    source = ("Source:\n\nMiriam Oduya, \"Collected Tales\",\nTome Premier, New York, Orbit House,\n1931.\n\n"
              "Pages 151-181.\n\n" + "-" * 60 + "\n\n")
    bibliography = ("\n\nBIBLIOGRAFÍA\n\n[WEB] World English Bible, Michael Johnson, 2002.\n"
                    "http://www.ebible.org Dominio público.\n\n[MT] Majority Text Greek New Testament.\n")
    result = clean(era_2010(body=source + novel(300) + bibliography).encode())
    assert result.text == novel(300).rstrip("\n") + "\n" + bibliography


def test_a_long_comment_on_the_etext_opening_the_book_goes_and_short_comments_stay():
    preamble = ("<--  An electronic edition of the Lantern, prepared by Orbit Data, Inc. (1991).\n"
                "     In this file, comments which are not a proper part of the book itself are\n"
                "contained within arrow brackets thus: <-- comment -->.\n\n"
                "     Send inquiries or comments to Orbit Data, Inc.\n"
                " -->\n\n")
    body = BODY.replace("CHAPTER II\n", "<--  p.  2  -->\nCHAPTER II\n")
    result = clean(era_2010(body=preamble + body).encode())
    assert result.text == body


def test_a_transcribers_end_notes_go_and_the_authors_footnote_after_them_stays():
    notes = ("\n\n\nORIGINAL TRANSCRIBER'S NOTES:\n\n\n[Footnote 1: Frontispiece, with the caption: \"He trimmed\n"
             "the wick.\" (_Page_ 23.)]\n\n[Footnote 2: \"lodgings.\": the period should be a comma, as in later\n"
             "editions.]\n\n[Footnote 3: \"ancles\": ankles.]\n\n")
    authors = "[Footnote 4: The quartermaster, in one of his letters, alludes to the lantern by this name.]\n"
    result = clean(novel_with(notes + authors).encode())
    assert result.text == novel(300).rstrip("\n") + "\n\n\n\n" + authors


def test_a_producers_end_line_and_pointers_to_the_notes_at_the_end_go():
    note = ("  Au lecteur.\n\n    Le texte en italiques est indiqué ici comme _italiques_.\n\n"
            "    On trouvera d'autres précisions à la fin du texte.\n\n\n")
    result = clean(era_2010(body=note + BODY + "\n\nEnd of file.\n").encode())
    assert result.text == BODY


def test_the_producers_sign_off_in_the_comment_syntax_goes_and_the_last_page_marker_stays():
    preamble = ("<--  An electronic edition of the Lantern, prepared by Orbit Data, Inc. (1991).\n"
                "     In this file, comments which are not a proper part of the book itself are\n"
                "contained within arrow brackets thus: <-- comment -->.\n"
                " -->\n\n")
    body = BODY.replace("THE END\n", "THE END\n<--  p.  9  -->\n")
    result = clean(era_2010(body=preamble + body + "\n<--  End of the Lantern, 1991  -->\n\x1a\n").encode())
    assert result.text == body
    assert [cut.rule for cut in result.cuts].count("producer-comment") == 2


def test_a_title_run_on_under_the_producers_address_stays():
    preamble = ("Questo e-book è stato realizzato dal circolo Orbit Data.\n\n"
                "-------------------------------------\n\nPER CONTATTARCI\n\n"
                "  Orbit Data\n  via delle Lanterne, 12\n\n  e-mail: info@orbitdata.it\n\n"
                "  http://www.orbitdata.it\n")
    body = "La lanterna di Kepler\ndi Miriam Oduya\n\n\n" + BODY.split("\n", 3)[3]
    result = clean(era_2010(body=preamble + body).encode())
    assert result.text == body
    # an address line with more of the producer's lines run on under it still goes whole
    tail = "  http://www.orbitdata.it\nScanned by Orbit Data volunteers\n\n"
    result = clean(era_2010(body=preamble.replace("  http://www.orbitdata.it\n", tail) + "\n" + body).encode())
    assert result.text == body


def test_a_banner_printed_again_below_between_the_producers_paragraphs_goes_and_a_title_page_stays():
    cooperation = ("*Project Gutenberg is proud to cooperate with Orbit Library*\n"
                   "in the presentation of The Collected Tales of Miriam Oduya.\n\n\n")
    banner = "The Collected Tales of Miriam Oduya\n\nThe Lantern of Kepler Station\n\n"
    trademark = "Orbit Library is a TradeMark (TM) of Orbit Data Inc.\n\n\n"
    result = clean(era_2010(body=cooperation + banner + trademark + BODY).encode())
    assert result.text == BODY
    # a title page between two credits, with lines the book does not print again, stays
    title_page = "THE LANTERN OF KEPLER STATION\n\nBy Miriam Oduya\n\nOrbit House, 1931\n\n"
    result = clean(era_2010(body=cooperation + title_page + trademark + BODY.split("\n", 4)[4]).encode())
    assert result.text.startswith(title_page)


def test_an_index_the_transcribers_note_says_was_added_at_the_end_goes_and_a_printed_index_stays():
    note = ("NOTA DE TRANSCRIPCIÓN\n\n  * Las erratas obvias han sido corregidas.\n\n"
            "  * Se ha añadido al final del libro un Índice del que carece el\n    original impreso.\n\n\n")
    index = "\n\n\nÍNDICE\n\n\n     CHAPTER I   5\n    CHAPTER II   9\n"
    result = clean(era_2010(body=note + BODY + index).encode())
    assert result.text == BODY
    assert any("added by the transcriber" in cut.detail for cut in result.cuts)
    # a note that added contents elsewhere leaves the book's own index alone
    note = note.replace("al final del libro un Índice", "una tabla de erratas")
    result = clean(era_2010(body=note + BODY + index).encode())
    assert "\nÍNDICE\n" in result.text and result.text.endswith("    CHAPTER II   9\n")


def test_an_editors_word_on_the_contents_under_the_notes_goes_and_a_dedication_stays():
    body = BODY.replace("CHAPTER II\n", "CHAPTER II. _The Whole Station Knew._\n")
    title_page = "THE LANTERN OF KEPLER STATION\n\nBy Miriam Oduya\n\n\n"
    note = ("     Transcriber's Note: This etext follows the 1931 edition, its spelling\n"
            "     and punctuation kept as printed.\n\n")
    word = "\t Chapter II, The Whole Station Knew, deals much with the supply ship.\n\n\n"
    result = clean(era_2010(body=title_page + note + word + body).encode())
    assert result.text == title_page + body
    dedication = "\t To Tamsin, who asked the whole station knew.\n\n\n"
    result = clean(era_2010(body=title_page + note + dedication + body).encode())
    assert result.text == title_page + dedication + body


def test_a_closing_list_of_modernised_spellings_goes_with_its_note_and_a_glossary_stays():
    glossary = "\n\nGLOSSARI\n\nFANAL.= Llanterna gran.\n\nXOMBA.= Aigua fonda.\n"
    norms = "\n\n\nNormes ortogràfiques: 1913\n           Diccionari: 1917\n\n\nVoliem – Volíem\nFanal - Fanàl\n"
    result = clean(era_2010(body=BODY + glossary + norms).encode())
    assert result.text == BODY + glossary
    # rows pairing different words are a glossary's, not respellings
    pairs = "\n\nFanal – Llanterna\nXomba – Aigua\n"
    result = clean(era_2010(body=BODY + glossary + pairs).encode())
    assert result.text == BODY + glossary + pairs


SPANISH_BODY = """LA LINTERNA DE LA ESTACIÓN KEPLER
Autora: Miriam Oduya.


CAPÍTULO I

La linterna había ardido en la loma sobre la estación durante once años,
y en todo ese tiempo nadie había preguntado quién le cortaba la mecha. Tamsin
lo preguntó la mañana en que la nave de suministros no llegó.

FIN
"""


def test_an_english_blurb_under_the_credits_of_a_book_in_another_language_goes():
    blurb = ('Also known as "La linterna" or\n"La linterna de la estación Kepler"\n\n'
             "A colonial romance (1931) by a little-known author.\n\n\n")
    result = clean(era_2010(body=blurb + SPANISH_BODY).encode())
    assert result.text == SPANISH_BODY
    # a Spanish epigraph there is the book's, and so is an English book's own line before its title
    epigraph = "Que la luz no se apague nunca,\ndijo el intendente.\n\n\n"
    assert clean(era_2010(body=epigraph + SPANISH_BODY).encode()).text == epigraph + SPANISH_BODY
    foreword = "This tale of the station was first written for my daughter, who asked.\n\n\n"
    assert clean(era_2010(body=foreword + BODY).encode()).text == foreword + BODY
