"""The dataset card every published version holds: YAML that the Hub reads, a folder `datasets` loads with nothing
else said, a body whose every number is the manifest's, a command that builds the same corpus, and verify's check."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import THIRDS, fast_http
from fake_gutenberg import FakeBook, FakeGutenberg, gutenberg_text, prose
from test_dedup import edition

from pipeline.build.run import Build
from pipeline.cli import main
from pipeline.config import BuildConfig, CorpusConfig
from pipeline.corpus.card import CARD_NAME, HF_SPLITS
from pipeline.corpus.verify import verify_version

NUMBER = re.compile(r"(?<![\w.\-/:])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")
"""A number standing on its own (not part of a word like UTF-8, sha256 or train-00000)."""
OPTIONS = dict(split_ratios=THIRDS, split_salt="card-salt", min_words=1500, near_duplicate_threshold=0.85,
               shard_size=40_000, separator="\n\n#####\n\n", keep_versions=2)


@pytest.fixture(scope="module")
def site():
    """The tests' default books (one French, one audio, one without text) and eleven more: a short one, a
    near-duplicate edition, and nine English books by three writers."""
    fake = FakeGutenberg()
    for n in range(9):
        book_id = 500 + n
        body = prose(book_id, paragraphs=25 + 4 * n)
        fake.books[book_id] = FakeBook(book_id, f"Made-up Book {book_id}", f"Writer{n % 3}, Some", ["Science Fiction"],
                                       downloads=5, text=gutenberg_text(book_id, f"Made-up Book {book_id}",
                                                                        f"Some Writer{n % 3}", body).encode())
    fake.books[520] = FakeBook(520, "A Short One", "Brief, Ann", ["Science Fiction"], downloads=5,
                               text=gutenberg_text(520, "A Short One", "Ann Brief", prose(520, paragraphs=5)).encode())
    fake.books[521] = FakeBook(521, "Another Edition", "Writer0, Some", ["Science Fiction"], downloads=5,
                               text=gutenberg_text(521, "Another Edition", "Some Writer0",
                                                   edition(prose(503, paragraphs=37), 0.005)).encode())
    fake.render()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def version(site, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("card-corpora")
    config = BuildConfig(shelf="science-fiction", base_url=site.base_url, out=out, http=fast_http(), jobs=1,
                         corpus=CorpusConfig(**OPTIONS))
    result = Build(config, progress=False).run()
    assert result.published and all(result.split_counts().values()), result.split_counts()
    return result.corpus_dir / "current"


def card_of(version: Path) -> tuple[dict, str]:
    text = (version / CARD_NAME).read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    assert match, text[:300]
    return yaml.safe_load(match.group(1)), match.group(2)


def manifest_of(version: Path) -> dict:
    return json.loads((version / "manifest.json").read_text(encoding="utf-8"))


def table(body: str, heading: str) -> list[list[str]]:
    """The rows of the first table under ``## heading``, commas taken out of the numbers."""
    section = body.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [[cell.strip().strip("`") for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


def test_the_front_matter_is_yaml_with_the_hubs_keys(version):
    meta, _ = card_of(version)
    manifest = manifest_of(version)
    assert meta["pretty_name"] == "Project Gutenberg: Science Fiction"
    assert meta["language"] == manifest["config"]["corpus"]["languages"] == ["en"]
    assert meta["license"] == "other" and meta["license_name"]
    assert "public domain in the USA" in meta["license_details"] and "trademark" in meta["license_details"]
    assert meta["size_categories"] == ["n<1K"] and meta["task_categories"] == ["text-generation"]
    assert meta["source_datasets"] == ["original"]
    [config] = meta["configs"]
    files = {entry["split"]: entry["path"] for entry in config["data_files"]}
    assert files == {"train": "train.parquet", "validation": "val.parquet", "test": "test.parquet"}
    assert all((version / path).is_file() for path in files.values())


def test_load_dataset_on_the_folder_gives_the_manifests_rows(version, tmp_path, monkeypatch):
    import datasets

    for name, value in (("HF_DATASETS_OFFLINE", "1"), ("HF_HUB_OFFLINE", "1"), ("HF_HOME", str(tmp_path / "hf"))):
        monkeypatch.setenv(name, value)
    loaded = datasets.load_dataset(str(version), cache_dir=str(tmp_path / "hf"))  # nothing else said
    manifest = manifest_of(version)
    assert set(loaded) == {"train", "validation", "test"}
    for split, hf_name in HF_SPLITS.items():
        assert loaded[hf_name].num_rows == manifest["splits"][split]["books"] > 0
        assert loaded[hf_name]["id"] == manifest["splits"][split]["ids"]
        assert sum(loaded[hf_name]["chars"]) == manifest["splits"][split]["chars"]


def test_every_number_in_the_card_is_the_manifests(version):
    _, body = card_of(version)
    manifest = manifest_of(version)
    splits, counts = manifest["splits"], manifest["counts"]
    with open(version / "books.csv", encoding="utf-8", newline="") as handle:
        books = list(csv.DictReader(handle))

    sizes = table(body, "Sizes")
    assert [row[0] for row in sizes] == ["train", "validation", "test", "total"]
    for row, split in zip(sizes, ("train", "val", "test")):
        info = splits[split]
        assert row[1] == info["parquet"]["path"]
        assert [number(c) for c in row[2:]] == [info["books"], info["words"], info["chars"], info["bytes"],
                                                len(info["shards"])]
    totals = [sum(number(row[i]) for row in sizes[:3]) for i in range(2, 7)]
    assert [number(c) for c in sizes[3][2:]] == totals and totals[0] == counts["kept"]

    drops = table(body, "What was left out, and why")
    by_step = {(step, reason): number(n) for step, reason, n in drops[:-1]}
    assert by_step == {(s, r): n for s, reasons in counts["dropped_by_step"].items() for r, n in reasons.items()}
    assert by_step[("length filter", "too short")] == 1 and by_step[("duplicates", "near-duplicate")] == 1
    assert by_step[("language filter", "language")] == 1 and by_step[("text only", "not text")] == 1
    assert Counter({r: n for (_, r), n in by_step.items()}) == Counter(counts["dropped"])
    assert number(drops[-1][2]) == sum(counts["dropped"].values()) == counts["found"] - counts["kept"]

    kept = {int(b["id"]) for b in books if b["status"] == "kept"}
    cuts, cut_books = Counter(), Counter()
    for line in (version / "cleaning.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["id"] in kept:
            cuts.update(c["rule"] for c in record["cuts"])
            cut_books.update({c["rule"] for c in record["cuts"]})
    cleaning = {row[0]: (number(row[2]), number(row[3])) for row in table(body, "Cleaning")}
    assert cleaning == {rule: (cuts[rule], cut_books[rule]) for rule in cuts} and cleaning["header"][1] == len(kept)

    languages = {row[0]: (number(row[1]), number(row[2])) for row in table(body, "Languages")}
    detected = Counter((b["language_detected"] or "not analysed", b["status"]) for b in books)
    assert languages == {lang: (detected[(lang, "kept")], detected[(lang, "dropped")]) for lang, _ in detected}
    assert languages["fr"] == (0, 1)

    # and not one number anywhere in the body that the version's files do not give
    known = set(NUMBER.findall(json.dumps(manifest, ensure_ascii=False)))
    known |= {f"{n:,}" for n in [*totals, *cuts.values(), *cut_books.values(), *detected.values(),
                                 sum(counts["dropped"].values()), *[x for row in sizes for x in map(number, row[2:])]]}
    known |= {str(n) for n in [*detected.values(), *cuts.values(), *cut_books.values()]}
    known |= {manifest["tool"]["version"], f"{1 / 3:.9g}", f"{OPTIONS['near_duplicate_threshold']:g}"}
    prose = re.sub(r"^    python -m pipeline build .*$", "", body, flags=re.M)  # the command: the next test's
    unknown = {n for n in NUMBER.findall(prose) if n not in known and n.replace(",", "") not in known}
    assert not unknown, f"numbers in the card that the manifest does not give: {sorted(unknown)}"


def test_the_cards_command_builds_the_same_corpus_again(version, site, capsys):
    _, body = card_of(version)
    [command] = re.findall(r"^    (python -m pipeline build .*)$", body, re.M)
    manifest = manifest_of(version)
    argv = __import__("shlex").split(command)[3:]
    assert "--split-salt" in argv and "--separator" in argv and "--min-words" in argv
    # the same content: nothing is published (exit 1: book 107 of the site has no text, as in the first build)
    assert main([*argv, "--jobs", "1", "--retries", "1"]) == 1
    printed = capsys.readouterr()
    assert "unchanged" in printed.out + printed.err, printed
    assert manifest_of(version)["version"] == manifest["version"]


def test_verify_catches_a_changed_or_missing_card(version, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(version, copy)
    assert verify_version(copy) == []
    card = (copy / CARD_NAME).read_text(encoding="utf-8")
    changed = card.replace("| total |", "| TOTAL |", 1)  # same size: only the sha256 tells
    assert changed != card and len(changed) == len(card)
    (copy / CARD_NAME).write_text(changed, encoding="utf-8")
    problems = verify_version(copy)
    assert problems == [f"{CARD_NAME}: sha256 differs from the manifest"], problems
    (copy / CARD_NAME).unlink()
    assert any(p.startswith(f"{CARD_NAME}:") for p in verify_version(copy))
    assert manifest_of(copy)["files"][CARD_NAME]["sha256"]
