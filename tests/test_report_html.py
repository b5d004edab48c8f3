"""``python -m pipeline report DIR --html FILE`` in a real headless Chromium: one self-contained page that loads,
whose every picture decodes, whose tables are the manifest's, and whose screenshot is not blank."""

from __future__ import annotations

import io
import json
import re

import pytest
from test_card import site, version  # noqa: F401  (the card's corpus: drops of every kind, three writers)

from pipeline.build.plots import PLOTS
from pipeline.cli import main

pytest.importorskip("selenium", reason="the test extra (selenium) is not installed")


def not_blank(png: bytes) -> tuple[int, float]:
    """Distinct colours of a screenshot, and the share of its pixels that are not the background."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    background = max(colours)[1] if colours else (255, 255, 255)
    pixels = image.width * image.height
    return len(colours), 1 - sum(n for n, c in colours if c == background) / pixels


def test_the_html_report_loads_whole_in_a_browser_with_no_network(version, browser, tmp_path, capsys):  # noqa: F811
    page = tmp_path / "report.html"
    assert main(["report", str(version.parent), "--html", str(page)]) == 0
    assert f"report written to {page}" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", text)
    assert links and all(link.startswith("data:image/png;base64,") for link in links), links[:3]
    assert "<link" not in text and "<script" not in text and "@import" not in text and "url(" not in text

    browser.set_window_size(1200, 900)
    browser.get(page.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    images = browser.execute_script(
        "return [...document.images].map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
    assert [alt for alt, *_ in images] == [heading for _, heading, _ in PLOTS]
    assert all(complete and width > 0 and height > 0 for _, complete, width, height in images), images
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith("data:") for name in fetched), fetched

    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    total = browser.execute_script(
        "return [...document.querySelector('tr.total').cells].map(c => c.textContent)")
    assert total[:2] == ["total", f"{manifest['counts']['kept']:,}"]
    steps = browser.execute_script(
        "return [...document.querySelectorAll('section')].find(s => s.querySelector('h2').textContent"
        ".startsWith('Left out')).querySelectorAll('tbody tr').length")
    assert steps == sum(len(kinds) for kinds in manifest["counts"]["dropped_by_step"].values())

    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1200, min(height + 150, 6000))
    colours, inked = not_blank(browser.get_screenshot_as_png())
    assert colours > 50 and inked > 0.05, (colours, inked)


def test_an_html_report_that_cannot_be_written_is_one_line(version, tmp_path, capsys):  # noqa: F811
    target = tmp_path / "no-such-folder" / "report.html"
    assert main(["report", str(version.parent), "--html", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --html {target}: cannot write it") and err.count("\n") == 1, err
    assert not target.exists()
