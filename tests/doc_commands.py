"""The commands README and the docs/ pages show, as a reader would copy them out of a code block.

A command is a line of an indented code block (four spaces, the style README and docs/ use), with
its ``\\`` continuation lines joined and its ``  # comment`` dropped; fenced blocks (Python snippets)
are not commands. Pages are read in the order a reader meets them: README, then mkdocs.yml's nav
(a later page may use what an earlier one built: ``runs/scifi`` from Training, served in Sharing).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def doc_pages(repo: Path = REPO) -> list[Path]:
    """README.md, then every docs/ page: those of mkdocs.yml's nav in its order, then any other, by name."""
    pages = [repo / "README.md"]
    docs = repo / "docs"
    if not docs.is_dir():
        return pages
    nav: list[str] = []
    config = repo / "mkdocs.yml"
    if config.is_file():
        def walk(item):
            if isinstance(item, str):
                nav.append(item)
            elif isinstance(item, list):
                for value in item:
                    walk(value)
            elif isinstance(item, dict):
                for value in item.values():
                    walk(value)
        walk((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("nav", []))
    ordered = [docs / name for name in nav if (docs / name).is_file()]
    ordered += sorted(path for path in docs.rglob("*.md") if path not in ordered)
    return pages + ordered


@dataclass(frozen=True)
class DocLine:
    page: str
    """Where it is shown: ``README.md`` or ``docs/NAME.md``."""
    text: str
    """The line as a reader copies it: continuations joined, no trailing ``  # comment``."""


def code_lines(page: Path, repo: Path = REPO) -> list[DocLine]:
    """Every line of the page's indented code blocks (top level, four spaces), continuations joined."""
    text = page.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = re.match(r"^ {4}(\S.*)$", line)
        if match and not fenced:
            lines.append(DocLine(page.relative_to(repo).as_posix(), match.group(1).split("  #")[0].rstrip()))
    return lines


def all_code_lines(repo: Path = REPO) -> list[DocLine]:
    return [line for page in doc_pages(repo) for line in code_lines(page, repo)]


def optional_parts_as_written(command: str) -> str:
    """``[--port 8000]`` → ``--port 8000``, and ``[--top-period 1|7|30]`` → ``--top-period 1``.

    Optional parts of a synopsis are run too, as a user copying them would; of alternatives, the first.
    """
    def first_alternatives(match: re.Match) -> str:
        return " ".join(word.split("|")[0] for word in match.group(1).split(" "))

    return re.sub(r"\[([^\]]*)\]", first_alternatives, command)


def unique(lines: list[DocLine]) -> list[DocLine]:
    """Each command once, where it is first shown (README's tour repeats commands of the pages)."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        key = " ".join(line.text.split())
        if key not in seen:
            seen.add(key)
            kept.append(line)
    return kept


def fresh_clone(target: Path, repo: Path = REPO) -> Path:
    """A clone of the repository's HEAD: only what git tracks, as a new user gets it."""
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(repo), str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "--quiet", head.stdout.strip()], check=True)
    return target
