"""A small Gutenberg-like site, written for the tests, served on 127.0.0.1 with injectable faults.

The markup follows what www.gutenberg.org serves (the reading-list index, shelf pages in its
templates, RDF, pg_catalog.csv, robots.txt) but every book, name and text here is made up.

Hostile modes, for what an attacker or a broken server would do: ``link_next`` plants any href as
a shelf page's Next link; ``catch_all`` answers every unknown path (``/tmp/x``, ``/ebooks/../..``)
with 200 and a body, so a client that followed a trick would write it; ``drip`` sends a body one
byte at a time; ``raw_headers`` replaces a response's headers with absurd ones (``Content-Length:
²``); any file can be set to binary bytes.
"""

from __future__ import annotations

import csv
import email.utils
import hashlib
import html
import io
import random
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = email.utils.formatdate(1_700_000_000, usegmt=True)

ENGLISH = """the engine hummed beneath a pale sky while travellers argued about comet and its strange light over
silent city of glass iron where no clock had ever stopped she said that we would find them before night fell upon
river old captain looked at his map with great care because there was little time left for anyone who wanted to
return home through dark forest between mountains people gathered in square to hear news from distant colony which
had sent message after many years nobody knew what it meant but everyone agreed something must be done soon children
ran along streets shouting names of ships as they landed one by one on field near harbour machines worked day and
night building towers higher than any bird could fly doctor wrote letters to friends describing wonders he had seen
in laboratory under hill when morning came sun rose red behind clouds and wind carried smell of rain across empty
fields her brother never believed stories about men from moon yet he listened every evening by fire until late
hours window door house room table chair book paper letter voice face hand eyes heart mind world life death light
water stone metal wheel rope boat train road bridge tower garden tree flower winter summer spring autumn year month
week hour minute always never often sometimes perhaps certainly quickly slowly quietly suddenly together alone
again still already yet""".split()
FRENCH = """le la les un une des de du et est il elle nous vous ils elles dans sur sous avec pour par sans mais ou
donc car que qui quoi dont cette ces son sa ses leur leurs notre votre mon ma mes ton ta tes ville maison homme femme
enfant jour nuit soleil lune ciel mer terre machine voyage monde temps heure porte fenêtre rue place navire étoile
avait était sera fut sont ont fait dit voir venir aller prendre trouver donner penser savoir vouloir pouvoir devoir
encore toujours jamais souvent bientôt déjà aussi très trop peu beaucoup ensemble seul vieux jeune grand petit
nouveau dernier premier longue belle noire blanche rouge froide chaude lumière silence bruit vent pluie neige""".split()


def prose(seed: int, paragraphs: int = 40, words: int = 60, vocabulary: list[str] = ENGLISH) -> str:
    """Made-up text: ``paragraphs`` paragraphs of ``words`` words drawn at random (seeded) from ``vocabulary``.

    Different seeds give texts that share no long runs of words, so they are not near-duplicates.
    """
    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        sentence = [rng.choice(vocabulary) for _ in range(words)]
        for i in range(11, words, 12):
            sentence[i] += "."
        out.append(" ".join(sentence).capitalize().rstrip(".") + ".")
    return "\n\n".join(out)


def french(seed: int, paragraphs: int = 40, words: int = 60) -> str:
    return prose(seed, paragraphs, words, FRENCH)


def gutenberg_text(book_id: int, title: str, author: str, body: str, *, language: str = "English",
                   encoding_line: str = "UTF-8") -> str:
    """A book file in the layout of Gutenberg's 2010s plain-text files."""
    upper = title.upper()
    return (f"The Project Gutenberg EBook of {title}, by {author}\n\n"
            f"This eBook is for the use of anyone anywhere at no cost and with\n"
            f"almost no restrictions whatsoever.\n\n"
            f"Title: {title}\n\nAuthor: {author}\n\nRelease Date: March 3, 2011 [EBook #{book_id}]\n\n"
            f"Language: {language}\n\nCharacter set encoding: {encoding_line}\n\n"
            f"*** START OF THIS PROJECT GUTENBERG EBOOK {upper} ***\n\n\n\n\n"
            f"Produced by Volunteers of a Made-up Proofreading Team\n\n\n\n\n"
            f"{upper}\n\nBy {author}\n\n\n{body}\n\n\nTHE END\n\n\n\n"
            f"End of the Project Gutenberg EBook of {title}, by {author}\n\n"
            f"*** END OF THIS PROJECT GUTENBERG EBOOK {upper} ***\n\n"
            f"***** This file should be named {book_id}.txt or {book_id}.zip *****\n")


@dataclass
class FakeBook:
    id: int
    title: str
    author: str
    shelves: list[str]
    language: str = "en"
    media_type: str = "Text"
    text: bytes | None = None
    """The file's bytes; None: no text file at all."""
    text_at: str = "cache"
    """``cache`` (/cache/epub/N/pgN.txt) or ``files`` (/files/N/N-0.txt only)."""
    rdf: bool = True
    downloads: int = 100


@dataclass
class Logged:
    method: str
    path: str
    status: int
    conditional: bool
    user_agent: str
    at: float
    truncated: bool = False


def default_books() -> list[FakeBook]:
    def text(book_id, title, author, **kw):
        return gutenberg_text(book_id, title, author, prose(book_id), **kw).encode("utf-8")

    latin = gutenberg_text(102, "Voyage to the Ice Moon", "Hélène Marchetti",
                           prose(102) + "\n\nThe café on the moon served crème brûlée.",
                           encoding_line="ISO-8859-1").replace("\n", "\r\n").encode("latin-1")
    return [
        FakeBook(101, "The Clockwork Comet", "Vance, Ada", ["Science Fiction"], downloads=900,
                 text=text(101, "The Clockwork Comet", "Ada Vance")),
        FakeBook(102, "Voyage to the Ice Moon", "Marchetti, Hélène", ["Science Fiction"], downloads=800,
                 text=latin),
        FakeBook(103, "Les Machines du Ciel", "Dubois, Marcel", ["Science Fiction"], language="fr", downloads=700,
                 text=gutenberg_text(103, "Les Machines du Ciel", "Marcel Dubois", french(103),
                                     language="French").encode("utf-8")),
        FakeBook(104, "The Silent Orbit", "Okafor, James", ["Science Fiction"], rdf=False, downloads=600,
                 text=b"\xef\xbb\xbf" + text(104, "The Silent Orbit", "James Okafor")),
        FakeBook(105, "Stories of Tomorrow", "Various", ["Science Fiction"], media_type="Sound", downloads=500),
        FakeBook(106, "The Glass Engine", "Lindqvist, Maja", ["Science Fiction"], text_at="files", downloads=400,
                 text=text(106, "The Glass Engine", "Maja Lindqvist")),
        FakeBook(107, "The Missing Chapter", "Hale, Robert", ["Science Fiction"], downloads=300),
        FakeBook(108, "Her Distant Star", "Moreau, Claire", ["Science Fiction by Women", "Science Fiction"],
                 downloads=200, text=text(108, "Her Distant Star", "Claire Moreau")),
        FakeBook(109, "A Treatise on Laughter", "Pike, Thomas", ["Humor"], text=text(109, "A Treatise on Laughter",
                                                                                        "Thomas Pike")),
        FakeBook(110, "Salt and Rope", "Barrow, Ned", ["Sea Stories"], text=text(110, "Salt and Rope", "Ned Barrow")),
    ]


DEFAULT_SHELVES = {68: "Science Fiction", 69: "Science Fiction by Women", 70: "Precursors of Science Fiction",
                   33: "Humor", 90: "Sea Stories", 91: "Sea-Stories"}


class FakeGutenberg:
    """The site's files in memory, a server for them, faults to inject and a log of requests."""

    def __init__(self, books: list[FakeBook] | None = None, shelves: dict[int, str] | None = None,
                 per_page: int = 4, robots: str = "User-agent: *\nDisallow: /ebooks/search\n"):
        self.books = {b.id: b for b in (books if books is not None else default_books())}
        self.shelves = dict(shelves or DEFAULT_SHELVES)
        self.per_page = per_page
        self.robots = robots
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.faults: dict[str, deque] = defaultdict(deque)
        self.retry_after = "1"
        self.stall_seconds = 2.0
        self.response_delay = 0.0
        """Seconds every request waits before it is answered (a slow site, for interrupting runs)."""
        self.catch_all: bytes | None = None
        """When set, every path without a file is answered 200 with these bytes instead of 404."""
        self.drip: dict[str, float] = {}
        """Paths whose body is sent one byte every so many seconds (a server that never quite finishes)."""
        self.raw_headers: dict[str, list[tuple[str, str]]] = {}
        """Paths answered 200 with exactly these headers (Content-Length included, or not) and their body."""
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.render()

    # -- content -------------------------------------------------------------------------------

    def render(self) -> None:
        """(Re)build every file from ``books`` and ``shelves``."""
        files = {"/robots.txt": self.robots.encode(), "/ebooks/bookshelf/": self._index_page().encode()}
        for shelf_id, name in self.shelves.items():
            members = sorted((b for b in self.books.values() if name in b.shelves), key=lambda b: -b.downloads)
            pages = [members[i:i + self.per_page] for i in range(0, len(members), self.per_page)] or [[]]
            for n, page in enumerate(pages):
                start = 1 + n * self.per_page
                key = f"/ebooks/bookshelf/{shelf_id}" + (f"?start_index={start}" if start > 1 else "")
                files[key] = self._shelf_page(shelf_id, name, page, start, len(members), n + 1 < len(pages)).encode()
        for book in self.books.values():
            if book.rdf:
                files[f"/cache/epub/{book.id}/pg{book.id}.rdf"] = self._rdf(book).encode()
            if book.text is not None:
                path = (f"/cache/epub/{book.id}/pg{book.id}.txt" if book.text_at == "cache"
                        else f"/files/{book.id}/{book.id}-0.txt")
                files[path] = book.text
        files["/cache/epub/feeds/pg_catalog.csv"] = self._catalog().encode()
        self.files = files

    def _index_page(self) -> str:
        links = "\n".join(f'<li><a href="/ebooks/bookshelf/{i}" title="{html.escape(n)}">{html.escape(n)}</a></li>'
                          for i, n in sorted(self.shelves.items(), key=lambda kv: kv[1]))
        return f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>
<title>Bookshelf | Project Gutenberg</title></head><body><div class="container"><div id="content" class="page_content">
<h1>Reading Lists</h1>
<div class="bookshelves"><ul>
<li><a href="/ebooks/bookshelves/search/?query=animal">"Animals" Reading Lists</a></li>
<li><a href="/ebooks/bookshelf/emmys">"Emmy's Picks"</a></li>
</ul></div>
<h2>All Reading Lists</h2>
<div class="bookshelves"><ul>
{links}
</ul></div></div></div></body></html>"""

    def _shelf_page(self, shelf_id, name, books, start, total, has_next) -> str:
        end = start + len(books) - 1
        nxt = f"/ebooks/bookshelf/{shelf_id}?start_index={start + self.per_page}"
        prev = f"/ebooks/bookshelf/{shelf_id}?start_index={max(1, start - self.per_page)}"
        head_links = (f'<link rel="next" title="Next Page" href="{nxt}"/>' if has_next else "") + (
            f'<link rel="previous" title="Previous Page" href="{prev}"/>' if start > 1 else "")
        status = (f'<li class="statusline"><div class="padded"><span>Displaying results {start}–{end}</span> '
                  + (f'<a title="Go to the previous page of results." accesskey="-" href="{prev}">Previous</a> '
                     if start > 1 else "")
                  + (f'<a title="Go to the next page of results." accesskey="+" href="{nxt}">Next</a>'
                     if has_next else "") + "</div></li>")
        items = "\n".join(
            f'<li class="booklink"><a class="link" href="/ebooks/{b.id}" accesskey="{k}">'
            f'<span class="cell leftcell with-cover"><img class="cover-thumb" '
            f'src="/cache/epub/{b.id}/pg{b.id}.cover.small.jpg" alt=""/></span>'
            f'<span class="cell content"><span class="title">{html.escape(b.title)}</span>'
            f'<span class="subtitle">{html.escape(_display_name(b.author))}</span>'
            f'<span class="extra">{b.downloads} downloads</span></span><span class="hstrut"></span></a></li>'
            for k, b in enumerate(books))
        return f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>
<title>{html.escape(name)} (sorted by popularity) | Project Gutenberg</title>
<link rel="self" title="This Page" href="/ebooks/bookshelf/{shelf_id}?start_index={start}"/>
{head_links}
<meta name="totalResults" content="{total}"/><meta name="startIndex" content="{start}"/>
<meta name="itemsPerPage" content="{self.per_page}"/>
</head><body><div class="container"><div id="content" class="page_content"><h1>{html.escape(name)}</h1>
<div class="body"><ul class="results">
{status}
{items}
{status}
</ul></div></div></div></body></html>"""

    @staticmethod
    def _rdf(book: FakeBook) -> str:
        shelves = "".join(
            f"<pgterms:bookshelf><rdf:Description><rdf:value>{html.escape(s)}</rdf:value>"
            f'<dcam:memberOf rdf:resource="2009/pgterms/Bookshelf"/></rdf:Description></pgterms:bookshelf>'
            for s in book.shelves)
        return f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xml:base="http://www.gutenberg.org/" xmlns:dcterms="http://purl.org/dc/terms/"
  xmlns:dcam="http://purl.org/dc/dcam/" xmlns:pgterms="http://www.gutenberg.org/2009/pgterms/"
  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <pgterms:ebook rdf:about="ebooks/{book.id}">
    {shelves}
    <dcterms:title>{html.escape(book.title)}</dcterms:title>
    <dcterms:creator><pgterms:agent rdf:about="2009/agents/{book.id}">
      <pgterms:name>{html.escape(book.author)}</pgterms:name></pgterms:agent></dcterms:creator>
    <dcterms:language><rdf:Description><rdf:value rdf:datatype="http://purl.org/dc/terms/RFC4646">{book.language}</rdf:value></rdf:Description></dcterms:language>
    <dcterms:type><rdf:Description><dcam:memberOf rdf:resource="http://purl.org/dc/terms/DCMIType"/><rdf:value>{book.media_type}</rdf:value></rdf:Description></dcterms:type>
    <pgterms:downloads>{book.downloads}</pgterms:downloads>
  </pgterms:ebook>
</rdf:RDF>
"""

    def _catalog(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Text#", "Type", "Issued", "Title", "Language", "Authors", "Subjects", "LoCC", "Bookshelves"])
        for b in sorted(self.books.values(), key=lambda b: b.id):
            writer.writerow([b.id, b.media_type, "2011-03-03", b.title, b.language, b.author, "Fiction", "PR",
                             "; ".join(b.shelves + ["Browsing: Fiction"])])
        return out.getvalue()

    # -- faults and log --------------------------------------------------------------------------

    def link_next(self, page: str, href: str) -> None:
        """Make shelf page ``page`` (a path) link to ``href`` as its Next page, whatever ``href`` is."""
        body = self.files[page].decode("utf-8")
        body = body.replace('<link rel="next"', '<link rel="ignored"')
        self.files[page] = body.replace("</head>", f'<link rel="next" title="Next Page" href="{href}"/></head>', 1
                                        ).encode("utf-8")

    def requested_paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.log]

    def fail(self, path: str, *faults: str) -> None:
        """Queue faults for the next requests of ``path``: '503', '429', '500', 'truncate', 'stall', 'reset'."""
        self.faults[path].extend(faults)

    def requests_for(self, path: str, status: int | None = None) -> list[Logged]:
        with self._lock:
            return [r for r in self.log if r.path == path and (status is None or r.status == status)]

    def count(self, status: int) -> int:
        """Requests answered ``status`` in full (a truncated 200 does not count as a 200)."""
        with self._lock:
            return sum(1 for r in self.log if r.status == status and not r.truncated)

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # -- server ----------------------------------------------------------------------------------

    def start(self) -> str:
        self.server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self.server is not None, "start() the site first"
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a stopped build, a deadline) are expected here: no traceback on stderr for them."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _display_name(catalog_name: str) -> str:
    if ", " in catalog_name:
        last, first = catalog_name.split(", ", 1)
        return f"{first} {last}"
    return catalog_name


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def _handler(site: FakeGutenberg):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def _record(self, status: int, truncated: bool = False) -> None:
            conditional = bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"))
            with site._lock:
                site.log.append(Logged(self.command, self.path, status, conditional,
                                       self.headers.get("User-Agent", ""), time.monotonic(), truncated))

        def _plain(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self._record(status)  # before the body, so a client that has it always finds it logged
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _raw(self, body: bytes, headers: list[tuple[str, str]]) -> None:
            self.send_response(200)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Connection", "close")
            self._record(200)
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def _drip(self, body: bytes, seconds: float) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "text/plain")
            self._record(200)
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(seconds)
            except OSError:  # the client gave up: what a dripping server wants to know
                pass

        def do_GET(self):
            time.sleep(site.response_delay)
            path = self.path
            key = path[:-len("?start_index=1")] if path.endswith("?start_index=1") else path
            with site._lock:
                fault = site.faults[key].popleft() if site.faults.get(key) else None
            if fault in ("503", "429", "500"):
                headers = {"Retry-After": site.retry_after} if fault != "500" else {}
                return self._plain(int(fault), b"", headers)
            if fault == "stall":  # logged as status 0: the client gives up before any answer
                self._record(0)
                time.sleep(site.stall_seconds)
                self.close_connection = True
                return
            if fault == "reset":
                self.close_connection = True
                self._record(0)
                return
            if key in site.redirects:
                return self._plain(302, b"", {"Location": site.redirects[key]})
            body = site.files.get(key)
            if body is None and site.catch_all is not None:
                body = site.catch_all
            if key in site.raw_headers:
                return self._raw(body or b"", site.raw_headers[key])
            if key in site.drip:
                return self._drip(body or b"", site.drip[key])
            if body is None:
                return self._plain(404, b"<html><body><h1>404 Not Found</h1></body></html>",
                                   {"Content-Type": "text/html; charset=utf-8"})
            etag = _etag(body)
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if (inm and inm == etag) or (not inm and ims == LAST_MODIFIED):
                return self._plain(304, b"", {"ETag": etag})
            headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED,
                       "Content-Type": "text/html; charset=utf-8" if key.startswith("/ebooks") else "text/plain"}
            if fault == "truncate":
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self._record(200, truncated=True)
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self._plain(200, body, headers)

    return Handler
