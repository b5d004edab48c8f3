"""The URL layout of www.gutenberg.org (and of any host that copies it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GutenbergSite:
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @property
    def shelf_index_url(self) -> str:
        return self.url("/ebooks/bookshelf/")

    def shelf_url(self, shelf_id: int, start_index: int = 1) -> str:
        if start_index <= 1:
            return self.url(f"/ebooks/bookshelf/{shelf_id}")
        return self.url(f"/ebooks/bookshelf/{shelf_id}?start_index={start_index}")

    @property
    def catalog_url(self) -> str:
        return self.url("/cache/epub/feeds/pg_catalog.csv")

    def rdf_url(self, book_id: int) -> str:
        return self.url(f"/cache/epub/{book_id}/pg{book_id}.rdf")

    def text_urls(self, book_id: int) -> list[str]:
        """Where a book's plain text may be, best first: the generated UTF-8 file, then the old uploads."""
        n = book_id
        return [self.url(f"/cache/epub/{n}/pg{n}.txt"), self.url(f"/files/{n}/{n}-0.txt"),
                self.url(f"/files/{n}/{n}-8.txt"), self.url(f"/files/{n}/{n}.txt")]
