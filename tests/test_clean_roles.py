"""Rules that describe who wrote a passage and in what role, each shown on fixtures written for these tests.

Every rule here is shown on two or more forms of what it removes (names, languages, places in the
book that no single real file has together) and on the author's text that looks like it and stays.
"""

from __future__ import annotations

from gutenberg_formats import footer_2010, header_2010

from pipeline.clean.cleaner import clean_text
from pipeline.clean.leaks import suspect_lines

TITLE = "THE SALT ROADS\n\nby Teodor Havel\n\n\n"
CHAPTER = ("The caravan left the well before dawn, and by noon the salt flats shone like a second sky\n"
           "under the wheels of the carts, which creaked and sang in the heat as they always had.\n\n")
PROSE = CHAPTER * 260  # far past the top zone, so the middle of the book is read as the book's


def book(credits: str, top: str = "", middle: str = "", bottom: str = "") -> str:
    return (header_2010() + credits + "\n\n\n" + TITLE + top + PROSE + middle + PROSE
            + "THE END\n" + bottom + footer_2010())


def rules_of(result) -> set[str]:
    return {cut.by for cut in result.cuts}


# -- notes signed by the credited producer ------------------------------------------------------------

def test_footnotes_signed_with_the_credited_producers_initials_go_and_the_translators_stay():
    middle = ("the toll was paid in salt.[12] The officers took it.[13]\n\n"
              "[Footnote 12: A tax on all goods entering a town. (MK.)]\n\n"
              "[Footnote 13: The customs house of Bilma, burnt in 1790. (Tr.)]\n\n")
    result = clean_text(book("Produced by Mara Kestrel", middle=middle))
    assert "A tax on all goods entering a town" not in result.text
    assert "The customs house of Bilma, burnt in 1790. (Tr.)" in result.text
    assert "the toll was paid in salt.[12]" in result.text
    assert "transcriber-note/signed" in rules_of(result)


def test_an_inline_remark_signed_d_w_goes_and_the_sentence_around_it_stays():
    middle = "He spoke of Man [See the essay 'What is Man.'  D. W.] and fell silent.\n\n"
    result = clean_text(book("This etext was produced by Dana Wold <dana@example.org>", middle=middle))
    assert "He spoke of Man and fell silent." in result.text
    assert "What is Man" not in result.text


def test_initials_of_someone_the_file_does_not_credit_are_the_authors():
    middle = "[Footnote 4: So the old account has it. (MK.)]\n\n"
    result = clean_text(book("Produced by the Online Distributed Proofreading Team", middle=middle))
    assert "So the old account has it. (MK.)" in result.text


def test_an_introduction_the_producer_signed_goes_back_to_the_notes_above_it():
    top = ("Transcriber's Notes:\n\nThis etext is the second of four; the earlier ones are listed below.\n\n"
           "*****\n\nIntroduction:\n\nIn the spring of 1844 a story began to appear in a Paris paper, and it ran\n"
           "for six years; here is what happened in the volumes before this one.\n\n"
           "Mara Kestrel mara@example.org June, 2000\n\n*****\n\n"
           "A word on titles: the Duke is called Monsieur throughout.--MK\n\n\n")
    result = clean_text(book("Produced by Mara Kestrel", top=top))
    assert "In the spring of 1844" not in result.text and "called Monsieur" not in result.text
    assert result.text.lstrip().startswith("THE SALT ROADS")


# -- what closes a book ---------------------------------------------------------------------------------

def test_a_list_under_a_heading_naming_the_etexts_editor_goes_to_the_end():
    bottom = ("\n\n\nETEXT EDITOR'S BOOKMARKS:\n\nAll roads lead to the sea\nSalt is the price of a life\n"
              "The well does not follow the caravan\n")
    result = clean_text(book("Produced by Dana Wold", bottom=bottom))
    assert result.text.rstrip().endswith("THE END")


def test_a_correction_reported_with_both_readings_goes_and_a_printers_errata_stay():
    bottom = ('\n\nNote: In "The Well," page 161, line 4, I have changed "they face" to "thy face".\n')
    result = clean_text(book("Produced by Dana Wold", bottom=bottom))
    assert "thy face" not in result.text and result.text.rstrip().endswith("THE END")
    printers = "\n\nERRATA.\n\nPage 161, line 4, for they face read thy face.\n"
    kept = clean_text(book("Produced by Dana Wold", bottom=printers))
    assert "for they face read thy face" in kept.text


def test_page_rows_abbreviated_pg_are_rows_of_the_transcribers_list():
    bottom = ("\n\nTranscriber's note:\n\n  The changes indicated in the Errata have been done.\n\n"
              "  pg 2 Changed: to asssit others to: assist\n\n  pg 84 Changed: ascersaining to: ascertaining\n\n"
              "  pg 99 Changed: Tauricks to: Tuaricks\n\n  Minor changes in punctuation have been done silently.\n")
    result = clean_text(book("Produced by Dana Wold", bottom=bottom))
    assert "asssit" not in result.text and result.text.rstrip().endswith("THE END")


def test_the_producers_end_line_naming_the_next_etext_takes_the_notes_below_it():
    bottom = ("\n\nEnd of The Salt Roads. The next text in the series is The Salt Sea.\n\n\nFootnotes:\n\n"
              "[Footnote 1: In the two-volume edition, Volume 1 ends here.]\n")
    result = clean_text(book("Produced by Dana Wold", bottom=bottom))
    assert "next text" not in result.text and "two-volume" not in result.text
    assert "footer/producer-end-line" in rules_of(result)


# -- the producer's remarks and contacts ---------------------------------------------------------------

def test_remarks_in_braces_double_brackets_and_angle_brackets_go_an_authors_braces_stay():
    middle = ("The salt was weighed {several lines are missing here in the omnibus edition} at the gate.\n\n"
              "[[The printed text reads 'gaet' here; corrected.]]\n\n"
              "<<THIS ELECTRONIC VERSION IS COPYRIGHT 1990 BY THE LIBRARY>>\n\n"
              "The towns {Bilma or Fachi} paid in kind.\n\n")
    result = clean_text(book("Produced by Dana Wold", middle=middle))
    assert "The salt was weighed at the gate." in result.text
    assert "gaet" not in result.text and "ELECTRONIC VERSION" not in result.text
    assert "The towns {Bilma or Fachi} paid in kind." in result.text


def test_a_contact_block_with_an_e_mail_address_under_any_domain_goes():
    top = "Comments and corrections:\n Finnish Literature Society\n Aino Virta\n Aino.Virta@example.fi\n\n\n"
    result = clean_text(book("Produced by Dana Wold", top=top))
    assert "Aino" not in result.text


def test_a_transcribers_note_after_a_label_and_a_pointer_to_it_go():
    middle = ("[Music: Transcribers note See HTML version for music]\n\n"
              "Lepsius, Les Metaux, p. _missing page_ See this transcriber note.\n\n")
    result = clean_text(book("Produced by Dana Wold", middle=middle))
    assert "Transcribers note" not in result.text and "transcriber note" not in result.text
    assert "Lepsius, Les Metaux, p. _missing page_" in result.text


def test_a_title_page_in_capitals_that_says_transcribed_from_is_the_prints():
    title_page = ("THE DIARY OF A CLERK\n\nTRANSCRIBED FROM THE SHORTHAND MANUSCRIPT IN THE COLLEGE LIBRARY\n"
                  "BY THE REV. JOHN ASHE M.A.\n\n\n")
    result = clean_text(header_2010() + title_page + PROSE + footer_2010())
    assert "TRANSCRIBED FROM THE SHORTHAND MANUSCRIPT" in result.text
    credit = clean_text(header_2010() + "Transcribed from the 1901 Macmillan edition by Dana Wold.\n\n\n"
                        + title_page + PROSE + footer_2010())
    assert "Macmillan" not in credit.text


# -- recall: Gutenberg's name alone cuts nothing of a book that quotes it ---------------------------------

def test_a_collection_quoting_project_gutenberg_editions_keeps_every_quotation():
    quotation = ('"The sea is the salt road of the world," says the Project Gutenberg edition of the Log\n'
                 "of the Argo, and every sailor of the fleet has said as much since.\n\n")
    text = (header_2010() + "Produced by Dana Wold\n\n\n" + TITLE + quotation * 3 + PROSE
            + quotation * 4 + PROSE + quotation * 3 + "THE END\n" + footer_2010())
    result = clean_text(text)
    assert result.text.count("says the Project Gutenberg edition of the Log") == 10
    assert "Dana Wold" not in result.text


def test_the_leak_finder_names_each_mark_on_kept_lines():
    kept = "A line of the book.\nTranscribed by a reader\n{omitted in this edition}\n"
    assert [s.mark for s in suspect_lines(kept)] == ["credit", "edge bracket"]


def test_picture_markers_stay_by_default_and_go_with_the_illustrations():
    from pipeline.clean.cleaner import CleanOptions

    text = header_2010() + "[Picture: Book cover]\n\n" + TITLE + "[Ilustración]\n\n" + PROSE + footer_2010()
    assert "[Picture: Book cover]" in clean_text(text).text
    dropped = clean_text(text, CleanOptions(remove_illustrations=True)).text
    assert "Picture" not in dropped and "Ilustración" not in dropped and dropped.lstrip().startswith("THE SALT ROADS")
