"""``python -m trainer report`` on a real short fit that was killed and resumed: one continuous history across its
version_* folders, the four curves as PNGs or one HTML page (checked in headless Chromium), the best checkpoint,
and a sample that the same seed repeats."""

from __future__ import annotations

import csv
import re

import pytest
from test_report_html import not_blank
from test_trainer import kill_at, run_cli, write_config

from trainer.sharing.runlog import read_history


@pytest.fixture(scope="module")
def resumed_run(tiny_corpus, tmp_path_factory):
    """12 steps (validation every 4), killed by SIGKILL at step 10, resumed from the checkpoint of step 8 into the
    same logger: logs/version_0 holds steps 0-9, logs/version_1 steps 8-11."""
    folder = tmp_path_factory.mktemp("report-run")
    run = folder / "run"
    first = run_cli("fit", "--config", str(write_config(folder / "killed.yaml", tiny_corpus, run,
                                                         callbacks=kill_at(10))))
    assert first.returncode == -9, first.stderr[-2000:]
    second = run_cli("fit", "--config", str(write_config(folder / "resumed.yaml", tiny_corpus, run)),
                     "--ckpt_path", "last")
    assert second.returncode == 0, second.stderr[-2000:]
    assert sorted(p.name for p in (run / "logs").iterdir()) == ["version_0", "version_1"]
    return run


def logged(path, column: str) -> dict[int, float]:
    with open(path, newline="") as handle:
        return {int(r["step"]): float(r[column]) for r in csv.DictReader(handle) if r.get(column)}


def test_an_interrupted_and_resumed_run_is_one_continuous_history(resumed_run):
    history = read_history(resumed_run)
    before = logged(resumed_run / "logs" / "version_0" / "metrics.csv", "train_loss")
    after = logged(resumed_run / "logs" / "version_1" / "metrics.csv", "train_loss")
    assert max(before) >= 9 and min(after) == 8  # the two fits overlap at steps 8 and 9
    train = history.column("train_loss")
    assert list(train["step"]) == list(range(12))  # each step once, none missing
    expected = {**{s: v for s, v in before.items() if s < 8}, **after}
    assert dict(zip(train["step"], train["train_loss"])) == pytest.approx(expected, abs=1e-9)
    assert history.resumed_at == [8]
    assert [(s.first_step, s.last_step) for s in history.segments] == [(min(before), max(before)), (8, 11)]
    lr = history.column("lr")
    assert list(lr["step"]) == list(range(12)) and all(v == pytest.approx(2e-3) for v in lr["lr"])  # AdamW default
    val = history.column("val_loss")
    assert len(val) == 3 and list(val["step"]) == sorted(set(val["step"]))  # after steps 4, 8 and 12; no repeat
    assert len(history.column("train_tokens_per_s")) >= 10


def test_the_report_writes_four_curves_names_the_best_checkpoint_and_samples_it(resumed_run, tmp_path):
    from PIL import Image

    result = run_cli("report", str(resumed_run), "--length", "80", "--seed", "5")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert re.search(r"^resumed +before step 8$", out, re.M) and "logs/version_1" in out
    assert "best checkpoint" in out and "best-step=" in out and "val_loss" in out
    for name in ("loss", "bpc", "lr", "throughput"):
        with Image.open(resumed_run / "report" / f"{name}.png") as image:
            assert image.width >= 400 and image.height >= 200
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 10  # a drawing, not a blank
    sample = out.split("sample (seed 5):\n", 1)[1].split("\nwritten: ", 1)[0]
    assert len(sample) >= 40
    again = run_cli("report", str(resumed_run), "--length", "80", "--seed", "5", "--png", str(tmp_path / "pngs"))
    assert again.returncode == 0 and sample in again.stdout  # the same seed, the same sample
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == ["bpc.png", "loss.png", "lr.png", "throughput.png"]
    other = run_cli("report", str(resumed_run), "--length", "80", "--seed", "6", "--png", str(tmp_path / "pngs"))
    assert other.returncode == 0 and sample not in other.stdout


def test_the_html_report_of_a_run_loads_in_a_browser(resumed_run, browser, tmp_path):
    page = tmp_path / "run.html"
    result = run_cli("report", str(resumed_run), "--html", str(page), "--prompt", "The ", "--length", "120")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.rstrip().endswith(f"written: {page}"), result.stdout[-500:]  # the page alone, no PNGs
    text = page.read_text(encoding="utf-8")
    assert "src=\"http" not in text and "<script" not in text and "<link" not in text
    browser.set_window_size(1000, 900)
    browser.get(page.as_uri())
    images = browser.execute_script("return [...document.images].map(i => [i.alt, i.complete, i.naturalWidth])")
    assert [alt for alt, *_ in images] == ["loss (nats per token)", "bits per character", "learning rate",
                                           "tokens per second"]
    assert all(complete and width > 0 for _, complete, width in images), images
    sample = browser.execute_script("return document.getElementById('sample').textContent")
    assert sample.startswith("The ") and len(sample) > 100
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1000, min(height + 150, 6000))
    colours, inked = not_blank(browser.get_screenshot_as_png())
    assert colours > 50 and inked > 0.05, (colours, inked)


def test_a_folder_without_csv_logs_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("report", str(tmp_path / "empty"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no CSV logs under") and result.stderr.count("\n") == 1, result.stderr
    missing = run_cli("report", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: no run folder at"), missing.stderr
