"""The tests' fake site, plus what the selectors read: author pages, the Top 100 page and catalog subjects.

Author pages use the shelf pages' templates (``/ebooks/author/ID``, ``?start_index=K``, a Next link,
``per_page`` books a page); the Top 100 page has the site's six lists (``h2#books-last1`` ...
``#authors-last30``, then ``ol > li > a``). Each author gets an id from ``author_ids``; the lists
rank by downloads (yesterday), by downloads plus a per-period twist (7 and 30 days), so the three
lists differ. Kept apart from fake_gutenberg.py, which only gains what a subclass cannot add.
"""

from __future__ import annotations

import csv
import html
import io

from fake_gutenberg import FakeBook, FakeGutenberg, _display_name, gutenberg_text, prose

WELLS_LIKE = "Quill, Arthur B. (Arthur Bramwell), 1871-1939"


def quill_books() -> list[FakeBook]:
    """Six books by one author (two author pages of four), one of them also on the Science Fiction shelf."""
    books = []
    for n in range(6):
        book_id = 201 + n
        title = f"Quill Story {n + 1}"
        shelves = ["Science Fiction"] if n == 0 else ["Adventure"]
        books.append(FakeBook(book_id, title, WELLS_LIKE, shelves, downloads=950 - n * 100,
                              text=gutenberg_text(book_id, title, "Arthur B. Quill",
                                                  prose(book_id, paragraphs=30)).encode("utf-8")))
    return books


class SelectorSite(FakeGutenberg):
    def __init__(self, *args, subjects: dict[int, list[str]] | None = None, **kwargs):
        self.subjects = subjects if subjects is not None else {}
        self.author_ids: dict[str, int] = {}
        super().__init__(*args, **kwargs)

    @classmethod
    def with_quill(cls) -> SelectorSite:
        site = cls()
        for book in quill_books():
            site.books[book.id] = book
        site.shelves[75] = "Adventure"
        site.subjects.update({201: ["Time travel -- Fiction", "Science fiction"], 202: ["Science fiction"],
                              101: ["Science fiction", "Comets -- Fiction"], 109: ["Humor"]})
        site.render()
        return site

    def author_id(self, name: str) -> int:
        return self.author_ids.setdefault(name, 5000 + len(self.author_ids))

    def render(self) -> None:
        super().render()
        by_author: dict[str, list[FakeBook]] = {}
        for book in sorted(self.books.values(), key=lambda b: (-b.downloads, b.id)):
            by_author.setdefault(book.author, []).append(book)
        for name, books in sorted(by_author.items()):
            author_id = self.author_id(name)
            pages = [books[i:i + self.per_page] for i in range(0, len(books), self.per_page)]
            for n, page in enumerate(pages):
                start = 1 + n * self.per_page
                key = f"/ebooks/author/{author_id}" + (f"?start_index={start}" if start > 1 else "")
                body = self._shelf_page(author_id, f"Books by {_display_name(name)}", page, start, len(books),
                                        n + 1 < len(pages))
                self.files[key] = body.replace("/ebooks/bookshelf/", "/ebooks/author/").encode()
        self.files["/browse/scores/top"] = self._top_page(by_author).encode()

    def ranking(self, period: int) -> list[FakeBook]:
        twist = {1: 0, 7: 37, 30: 91}[period]
        return sorted(self.books.values(), key=lambda b: (-(b.downloads + (b.id * twist) % 500), b.id))

    def _top_page(self, by_author: dict[str, list[FakeBook]]) -> str:
        names = {1: "yesterday", 7: "last 7 days", 30: "last 30 days"}
        sections = []
        for period in (1, 7, 30):
            items = "\n".join(f'<li><a href="/ebooks/{b.id}">{html.escape(b.title)} by '
                              f'{html.escape(_display_name(b.author.split(" (")[0]))} ({b.downloads})</a></li>'
                              for b in self.ranking(period)[:100])
            sections.append(f'<h2 id="books-last{period}">Top 100 EBooks {names[period]}</h2>\n<ol>\n{items}\n</ol>')
        for period in (1, 7, 30):
            ranked = sorted(by_author.items(), key=lambda kv: -sum(b.downloads for b in kv[1]))
            items = "\n".join(f'<li><a href="/ebooks/author/{self.author_id(name)}">'
                              f'{html.escape(name.split(", 1")[0])} ({sum(b.downloads for b in books)})</a></li>'
                              for name, books in ranked)
            sections.append(f'<h2 id="authors-last{period}">Top 100 Authors {names[period]}</h2>\n<ol>\n{items}\n</ol>')
        nav = " | ".join(f'<a href="#{kind}-last{p}">Top 100 {kind}</a>'
                         for p in (1, 7, 30) for kind in ("books", "authors"))
        body = "\n".join(sections)
        return f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en"><head><meta charset="utf-8"/>
<title>Top 100 | Project Gutenberg</title></head><body><div class="container"><div id="content" class="page_content">
<h1>Top 100 - Project Gutenberg</h1>
<p class="top-nav">{nav}</p>
{body}
</div></div></body></html>"""

    def _catalog(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Text#", "Type", "Issued", "Title", "Language", "Authors", "Subjects", "LoCC", "Bookshelves"])
        for b in sorted(self.books.values(), key=lambda b: b.id):
            writer.writerow([b.id, b.media_type, "2011-03-03", b.title, b.language, b.author,
                             "; ".join(self.subjects.get(b.id, ["Fiction"])), "PR",
                             "; ".join(b.shelves + ["Browsing: Fiction"])])
        return out.getvalue()
