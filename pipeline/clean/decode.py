"""Bytes of a Gutenberg file → text, and the name of the encoding that was used.

Order: a byte-order mark; strict UTF-8; the charset the header declares ("Character set
encoding: ISO-8859-1"), except that "ISO-8859-1" holding bytes 0x80–0x9F is really cp1252;
else cp1252 when the bytes read like a Latin script in cp1252 (8-bit letters alone or in pairs
inside ASCII words), and charset-normalizer's guess when they do not (KOI8-R, cp1251, Big5,
Shift-JIS: whole words of 8-bit bytes). The five bytes cp1252 leaves undefined decode as their
Latin-1 code points, so no byte ever becomes U+FFFD. Newlines are normalised to ``\\n``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

DECLARED_RE = re.compile(rb"^[ \t]*Character set encoding:[ \t]*([^\r\n]+?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
HEADER_BYTES = 64 * 1024
C1_CONTROLS = bytes(range(0x80, 0xA0))
LATIN1_NAMES = {"iso-8859-1", "latin-1", "latin1", "iso8859-1", "iso-latin-1", "iso latin-1", "l1"}
ASCII_NAMES = {"ascii", "us-ascii", "iso-646-us", "iso-646-us (us-ascii)", "iso646-us", "us ascii"}
BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"))


def _latin1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start:error.end]
    return "".join(chr(b) for b in bad), error.end


codecs.register_error("pipeline-latin1-fallback", _latin1_fallback)


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Inside UTF-8, a stray 8-bit byte is read as cp1252 (Latin-1 where cp1252 has no character)."""
    bad = error.object[error.start:error.start + 1]
    return bad.decode("cp1252", "pipeline-latin1-fallback"), error.start + 1


codecs.register_error("pipeline-cp1252-fallback", _cp1252_fallback)
MOSTLY_UTF8 = 0.99
"""Share of non-ASCII bytes that must form valid UTF-8 for a file to be read as UTF-8 with stray bytes."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    """What was used: ``ascii``, ``utf-8``, ``utf-8-sig`` (with BOM), ``utf-16``, ``iso-8859-1``, ``cp1252``..."""
    declared: str | None = None
    """The header's "Character set encoding:" value, if any."""


def declared_charset(raw: bytes) -> str | None:
    match = DECLARED_RE.search(raw, 0, HEADER_BYTES)
    return match.group(1).decode("ascii", "replace").strip() if match else None


def normalise_newlines(text: str) -> str:
    if "\r" not in text:
        return text
    text = text.replace("\r\n", "\n")
    return text.replace("\r", "\n") if "\r" in text else text


def decode(raw: bytes) -> Decoded:
    declared = declared_charset(raw)
    for bom, name, codec in BOMS:
        if raw.startswith(bom):
            try:
                return Decoded(normalise_newlines(raw[len(bom):].decode(codec)), name, declared)
            except UnicodeDecodeError:
                raw = raw[len(bom):]
                break
    if raw.isascii():
        return Decoded(normalise_newlines(raw.decode("ascii")), "ascii", declared)
    try:
        return Decoded(normalise_newlines(raw.decode("utf-8")), "utf-8", declared)
    except UnicodeDecodeError:
        pass
    codec = _codec_for(declared)
    if codec == "utf-8" or _mostly_utf8(raw):
        # One stray byte must not turn a UTF-8 book into mojibake: keep UTF-8, read the strays as cp1252.
        return Decoded(normalise_newlines(raw.decode("utf-8", "pipeline-cp1252-fallback")), "utf-8+cp1252", declared)
    if codec == "iso-8859-1" and len(raw.translate(None, C1_CONTROLS)) < len(raw):
        codec = "cp1252"  # C1 controls never appear in real text: these are cp1252's curly quotes and dashes
    if codec not in (None, "ascii", "utf-8", "cp1252"):
        try:
            return Decoded(normalise_newlines(raw.decode(codec)), codec, declared)
        except (UnicodeError, LookupError):
            pass
    if codec is None and not plausibly_cp1252(raw):
        guessed = _guess(raw)
        if guessed is not None:
            return Decoded(normalise_newlines(guessed[0]), guessed[1], declared)
    return Decoded(normalise_newlines(raw.decode("cp1252", "pipeline-latin1-fallback")), "cp1252", declared)


def _codec_for(declared: str | None) -> str | None:
    if not declared:
        return None
    name = declared.strip().lower()
    if name in LATIN1_NAMES:
        return "iso-8859-1"
    if name in ASCII_NAMES or name.startswith("iso-646"):
        return "ascii"
    name = re.sub(r"\s*\(.*\)$", "", name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # Not base64 and the like; and not UTF-16/32 without the BOM they would have had.
    if not getattr(info, "_is_text_encoding", True) or info.name.startswith(("utf-16", "utf-32", "utf-7")):
        return None
    return info.name


HIGH_BYTES = bytes(range(128, 256))


def _mostly_utf8(raw: bytes) -> bool:
    high = len(raw) - len(raw.translate(None, HIGH_BYTES))
    if not high:
        return False
    # The bytes UTF-8 cannot read are those dropped by "ignore": counted in C, not by a scan for escapes.
    invalid = len(raw) - len(raw.decode("utf-8", "ignore").encode("utf-8"))
    return invalid <= high * (1 - MOSTLY_UTF8)


HIGH_RUN_RE = re.compile(rb"[\x80-\xff]+")
LONG_RUN_SHARE = 0.3
"""Above this share of 8-bit bytes standing in runs of three or more, a text is not a Latin script in cp1252.

Latin-script languages put one accented letter, at most two, between ASCII letters (Icelandic in
the pool: 0.3% of its 8-bit bytes in longer runs); Cyrillic in KOI8-R or cp1251 and CJK in Big5
or Shift-JIS write whole words in 8-bit bytes (over 80%)."""
LONG_RUN_MIN_BYTES = 12


def plausibly_cp1252(raw: bytes) -> bool:
    """Whether 8-bit bytes read like cp1252 or Latin-1: scattered letters, not whole words of them."""
    runs = HIGH_RUN_RE.findall(raw)
    high = sum(map(len, runs))
    long_runs = sum(len(run) for run in runs if len(run) >= 3)
    return long_runs < LONG_RUN_MIN_BYTES or long_runs <= high * LONG_RUN_SHARE


def _guess(raw: bytes) -> tuple[str, str] | None:
    """charset-normalizer's best reading of bytes that are neither UTF-8 nor cp1252, with its codec's name."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # a dependency, but an install without it still decodes (as cp1252)
        return None
    matches = list(from_bytes(raw))
    # A reading in which some language is recognised beats one that is merely free of odd characters
    # (a few lines of KOI8-R also read, without chaos, as Shift-JIS).
    best = next((m for m in matches if m.coherence > 0), matches[0] if matches else None)
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    try:
        return raw.decode(best.encoding), codecs.lookup(best.encoding).name
    except (UnicodeError, LookupError):
        return None
