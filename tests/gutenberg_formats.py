"""Gutenberg plain-text files of each era, wrapped around a made-up body, written for the cleaner's tests.

The shapes follow what Gutenberg published over the years (1990s small print, the 2002–04 files
with small print after the text, the 2004–2018 header, the 2020s header with Credits: fields);
the wording of each licence is abridged and every book in here is invented.
"""

from __future__ import annotations

BODY = """THE LANTERN OF KEPLER STATION

By Miriam Oduya


CHAPTER I

The lantern had burned on the ridge above Kepler Station for eleven years,
and in all that time nobody had asked who trimmed its wick. Tamsin asked
on the morning the supply ship failed to come.

"It trims itself," said the quartermaster, who did not believe it either.


CHAPTER II

By evening the whole station knew the answer, and wished it did not.

THE END
"""
FIRST, LAST = "THE LANTERN OF KEPLER STATION", "THE END"

SMALL_PRINT = """**Welcome To The World of Free Plain Vanilla Electronic Texts**

**Etexts Readable By Both Humans and By Computers, Since 1971**

*These Etexts Prepared By Hundreds of Volunteers and Donations*

Information on contacting Project Gutenberg to get Etexts, and
further information is included below.  We need your donations.

****START**THE SMALL PRINT!**FOR PUBLIC DOMAIN ETEXTS**START****
Why is this "Small Print!" statement here?  You know: lawyers.
They tell us you might sue us if there is something wrong with
your copy of this etext, even if you got it for free from
someone other than us, and even if what's wrong is not our
fault.  So, among other things, this "Small Print!" statement
disclaims most of our liability to you.

*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*
"""

LICENCE_2010 = """*** START: FULL LICENSE ***

THE FULL PROJECT GUTENBERG LICENSE
PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK

To protect the Project Gutenberg-tm mission of promoting the free
distribution of electronic works, by using or distributing this work
you agree to comply with all the terms of the Full Project Gutenberg-tm
License (available with this file or online at http://gutenberg.org/license).

Most people start at our Web site which has the main PG search facility:

     http://www.gutenberg.org
"""


def header_2010(title: str = "The Lantern of Kepler Station", author: str = "Miriam Oduya",
                encoding: str = "ASCII", start: str | None = None) -> str:
    start = start or f"*** START OF THIS PROJECT GUTENBERG EBOOK {title.upper()} ***"
    return (f"The Project Gutenberg EBook of {title}, by {author}\n\n"
            "This eBook is for the use of anyone anywhere at no cost and with\n"
            "almost no restrictions whatsoever.  You may copy it, give it away or\n"
            "re-use it under the terms of the Project Gutenberg License included\n"
            "with this eBook or online at www.gutenberg.org\n\n\n"
            f"Title: {title}\n\nAuthor: {author}\n\nRelease Date: May 4, 2009 [EBook #90001]\n\n"
            f"Language: English\n\nCharacter set encoding: {encoding}\n\n{start}\n\n\n\n\n")


def footer_2010(title: str = "The Lantern of Kepler Station", author: str = "Miriam Oduya",
                end_line: str | None = None) -> str:
    end_line = end_line if end_line is not None else f"End of the Project Gutenberg EBook of {title}, by {author}"
    return (f"\n\n\n\n{end_line}\n\n*** END OF THIS PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n"
            "***** This file should be named 90001.txt or 90001.zip *****\n"
            "This and all associated files of various formats will be found in:\n"
            "        http://www.gutenberg.org/9/0/0/0/90001/\n\n"
            "Produced by Ines Varga and the Online Distributed Proofreading Team\n\n"
            "Updated editions will replace the previous one--the old editions\nwill be renamed.\n\n"
            + LICENCE_2010)


def era_2010(body: str = BODY, credits: str = "Produced by Ines Varga and the Online Distributed\n"
                                              "Proofreading Team at http://www.pgdp.net\n") -> str:
    return header_2010() + (credits + "\n\n\n\n" if credits else "") + body + footer_2010()


def era_1990s(body: str = BODY) -> str:
    return ("The Project Gutenberg Etext of The Lantern of Kepler Station\n\n" + SMALL_PRINT
            + "\n\n\n\n" + body + "\n\nEnd of the Project Gutenberg Etext of The Lantern of Kepler Station\n\n")


def era_2002(body: str = BODY) -> str:
    """2002–04: a long header, ``*** START OF THE`` and the small print after the text."""
    return ("The Project Gutenberg EBook of The Lantern of Kepler Station, by Miriam Oduya\n\n"
            "Copyright laws are changing all over the world. Be sure to check the\n"
            "copyright laws for your country before downloading or redistributing\nthis or any other Project "
            "Gutenberg eBook.\n\n"
            "Please read the \"legal small print,\" and other information about the\n"
            "eBook and Project Gutenberg at the bottom of this file.\n\n"
            "**Welcome To The World of Free Plain Vanilla Electronic Texts**\n\n"
            "Title: The Lantern of Kepler Station\n\nAuthor: Miriam Oduya\n\nEdition: 10\n\n"
            "Language: English\n\nCharacter set encoding: ASCII\n\n"
            "*** START OF THE PROJECT GUTENBERG EBOOK THE LANTERN OF KEPLER STATION ***\n\n\n\n\n"
            "Produced by Ines Varga, Charles Franks and the Online Distributed\nProofreading Team.\n\n\n\n"
            + body
            + "\n\n\n*** END OF THE PROJECT GUTENBERG EBOOK THE LANTERN OF KEPLER STATION ***\n\n"
            "This file should be named 90002.txt or 90002.zip\n\n"
            "**The Legal Small Print**\n\n"
            "***START**THE SMALL PRINT!**FOR PUBLIC DOMAIN EBOOKS**START***\n"
            "Why is this \"Small Print!\" statement here? You know: lawyers.\n\n"
            "*END THE SMALL PRINT! FOR PUBLIC DOMAIN EBOOKS*Ver.02/11/02*END*\n\n")


def era_2024(body: str = BODY) -> str:
    return ("The Project Gutenberg eBook of The Lantern of Kepler Station\n    \n"
            "This ebook is for the use of anyone anywhere in the United States and\n"
            "most other parts of the world at no cost and with almost no restrictions\n"
            "whatsoever. You may copy it, give it away or re-use it under the terms\n"
            "of the Project Gutenberg License included with this ebook or online\n"
            "at www.gutenberg.org.\n\n"
            "Title: The Lantern of Kepler Station\n\nAuthor: Miriam Oduya\n\n"
            "Release date: March 2, 2024 [eBook #90003]\n\nLanguage: English\n\n"
            "Original publication: New York: Orbit House, 1931\n\n"
            "Credits: Ines Varga and the Online Distributed Proofreading Team at\n"
            "         https://www.pgdp.net (This file was produced from images\n"
            "         generously made available by The Internet Archive)\n\n\n"
            "*** START OF THE PROJECT GUTENBERG EBOOK THE LANTERN OF KEPLER STATION ***\n\n\n\n\n"
            + body
            + "\n\n\n*** END OF THE PROJECT GUTENBERG EBOOK THE LANTERN OF KEPLER STATION ***\n\n\n\n\n"
            "Updated editions will replace the previous one—the old editions will\nbe renamed.\n\n"
            "START: FULL LICENSE\n\nTHE FULL PROJECT GUTENBERG LICENSE\n")


def fields_only(body: str = BODY) -> str:
    """A 2024-style file that opens with its fields and has no licence paragraph and no START line."""
    return ("Title: The Lantern of Kepler Station\n\nAuthor: Miriam Oduya\n\nRelease date: March 2, 2024\n\n"
            "Language: English\n\nCredits: Ines Varga and the Online Distributed Proofreading Team\n"
            "         at https://www.pgdp.net\n\n\n\n" + body)


POEM = "\n".join(
    ["THE TIDE-CLOCK", "", "By Anselm Rooke", ""]
    + [f"{'  ' if i % 2 else ''}Line {i + 1} of the tide-clock turns, and the grey water learns its hour;"
       for i in range(50)]
)


def era_2001_fields(body: str = BODY) -> str:
    """2001–04 re-issues of early etexts: licence paragraphs, Title:/Edition: fields closed by a bare ``***``,
    then the producer's own preamble, a transcriber's bracket with initials and a date, and the title line."""
    return ("The Project Gutenberg EBook of The Lantern of Kepler Station\n\n"
            "Copyright laws are changing all over the world. Be sure to check the\n"
            "copyright laws for your country before downloading or redistributing\n"
            "this or any other Project Gutenberg eBook.\n\n"
            "**Welcome To The World of Free Plain Vanilla Electronic Texts**\n\n"
            "*****These eBooks Were Prepared By Thousands of Volunteers!*****\n\n\n"
            "Title: The Lantern of Kepler Station\n\n"
            "Release Date: March, 1994  [EBook #90004]\n[Most recently updated: June 2, 2004]\n\n"
            "Edition: 11\n\nLanguage: English\n\nCharacter set encoding: ASCII\n\n***\n\n\n"
            "The Lantern was among the first Etexts typed in for Project Gutenberg,\n"
            "from a paperback found in a second-hand shop.\n\n"
            "This file was never copyrighted, Sharewared, etc., and is thus for\n"
            "all to use and copy in any manner they choose.\n\n"
            "In preparing this transcription for the Etext, I have kept the\n"
            "spelling of the paperback, mistakes and all.\n\n"
            "[MH, Jun 04: \"wick\", however, is spelled as in the original.]\n\n\n"
            "**The Project Gutenberg Etext of The Lantern of Kepler Station**\n\n\n"
            + body + "\n\nEnd of The Project Gutenberg Etext of The Lantern of Kepler Station\n\n"
            + SMALL_PRINT)


def era_1990s_two_etexts(first: str, second: str) -> str:
    """One file holding two etexts, each with its own header; the second small print ends with its version
    first ("*SMALL PRINT! Ver.06.28.92* ...*END*")."""
    return (era_1990s(first)
            + "The Project Gutenberg Etext of The Lamp-Trimmer's Daughter\n"
            "*******This file should be named lamp10.txt or lamp10.zip********\n\n"
            "Corrected EDITIONS of our etexts get a new NUMBER, lamp11.txt.\n\n"
            "*START** SMALL PRINT! for *** The Lamp-Trimmer's Daughter **\n"
            "This etext was distributed by Professor Michael S. Hart through\n"
            "the Project Gutenberg Association (the \"Project\").\n\n"
            "*SMALL PRINT! Ver.06.28.92* The Lamp-Trimmer's Daughter*END*\n\n\n"
            + second + "\n\nEnd of the Project Gutenberg Etext of The Lamp-Trimmer's Daughter\n")


LIBER_LIBER_PREAMBLE = """Produced by Liber Liber



 INFORMAZIONI SUI TESTI ELETTRONICI,
SU LIBER LIBER E SUL PROGETTO MANUZIO

-------------------------------------

IL PROGETTO MANUZIO

Il "Progetto Manuzio" e' una
iniziativa dell'associazione
culturale "Liber Liber".

-------------------------------------

INFORMAZIONI TECNICHE

Il testo allegato puo' essere in
vari formati:

I file con suffisso .TXT sono in
ASCII esteso "ISO latin 1".

N.B. I computer basati su sistema
operativo Unix ricorrono al solo
line feed (LF).

-------------------------------------

CLAUSOLE PER LA DISTRIBUZIONE

I testi pubblicati dall'associazione
"Liber Liber" possono essere copiati
e diffusi liberamente.

-------------------------------------

PER CONTATTARCI

  e-mail: info@liberliber.it
  http://www.liberliber.it


"""
