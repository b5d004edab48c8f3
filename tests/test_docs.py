"""README stays a short front door, and docs/ builds into a site that lists every page.

README holds what the tool is, the two set-up commands, a five-minute tour and a map of docs/;
everything else is one page per topic under docs/, built with ``mkdocs build --strict`` (a broken
link or a page missing from the nav fails it). The commands these pages show are run elsewhere:
tests/test_trainer_clone.py and tests/test_docs_commands.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README_MAX_LINES = 250
SETUP_COMMANDS = [
    # the serve extra: README's tour serves the model it trained
    "python -m pip install torch==2.13.0 && python -m pip install -e '.[serve]' "
    "&& python -m pipeline build --shelf science-fiction",
    "python -m pip install torch==2.13.0 && python -m pip install -e '.[test]' && python -m pytest",
]


def docs_pages() -> list[str]:
    return sorted(path.relative_to(REPO / "docs").as_posix() for path in (REPO / "docs").rglob("*.md"))


def nav_pages(nav) -> list[str]:
    """Every page file named in mkdocs.yml's nav, however deeply nested."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return []


def mkdocs_config() -> dict:
    return yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))


def test_readme_is_a_short_front_door():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"
    for command in SETUP_COMMANDS:  # .ci/run runs the second one exactly
        assert "    " + command in lines, command
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert SETUP_COMMANDS[1] in ci


def test_every_docs_page_is_in_the_nav_and_on_the_readme_map():
    pages = docs_pages()
    assert "index.md" in pages and len(pages) >= 8, pages
    config = mkdocs_config()
    assert config.get("theme", {}).get("name") == "mkdocs", "the built-in theme: no extra theme package to install"
    nav = nav_pages(config.get("nav", []))
    assert sorted(set(nav)) == pages, f"mkdocs.yml nav {sorted(nav)} != docs/ pages {pages}"
    assert len(nav) == len(set(nav)), nav
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(docs/([^)#\s]+\.md)(?:#[^)]*)?\)", readme))
    missing = [page for page in pages if page not in linked]
    assert not missing, f"README's docs map does not link {missing}"
    assert all((REPO / "docs" / page).is_file() for page in linked), f"README links a page docs/ lacks: {linked}"


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(REPO / "mkdocs.yml"), "--site-dir", str(site)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for page in docs_pages():
        built = site / ("index.html" if page == "index.md" else page[:-3] + "/index.html")
        assert built.is_file(), (page, sorted(p.name for p in site.iterdir()))
