"""What a newcomer meets in the first hour: versions, help texts and install hints that point at the real fix."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from trainer.cli import CONFIG_KEYS
from trainer.errors import install_hint

REPO = Path(__file__).resolve().parents[1]


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("program", ["pipeline", "trainer"])
def test_version_names_the_project_not_the_command(program):
    result = run(program, "--version")
    assert result.returncode == 0 and re.fullmatch(r"gutenberg-lstm \d+\.\d+\.\d+", result.stdout.strip()), result


def test_every_command_is_described_in_a_whole_sentence():
    result = run("trainer", "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    listed = result.stdout.split("commands (")[1].split("\n\n")[0].splitlines()[1:]
    summaries = dict(line.split(None, 1) for line in listed)
    assert sorted(summaries) == sorted(["fit", "validate", "test", "generate", "serve", "export", "report"]), summaries
    for command, summary in summaries.items():
        assert summary.endswith("."), (command, summary)  # Lightning's own stop mid-sentence
    assert "It's separated from fit" not in result.stdout
    assert "Measure a checkpoint on the test split" in run("trainer", "test", "--help").stdout


@pytest.mark.parametrize("argv", [["--help"], ["--version"], *[[c, "--help"] for c in
                                  ("fit", "validate", "test", "generate", "serve", "export", "report")]])
def test_help_and_version_answer_without_loading_lightning(argv):
    code = ("import sys, runpy; sys.argv = ['trainer', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('trainer', run_name='__main__')\n"
            "except SystemExit as stop:\n"
            "    loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pytorch_lightning', 'lightning'))\n"
            "    print('LOADED', loaded, file=sys.stderr)\n    raise")
    result = subprocess.run([sys.executable, "-c", code, *argv], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip(), result.stderr[-2000:]
    assert "LOADED []" in result.stderr, result.stderr[-2000:]


def test_generate_runs_without_loading_lightning(tiny_checkpoint):
    code = ("import sys; from trainer.cli import main; code = main(['generate', '--ckpt', sys.argv[1], '--length', "
            "'40', '--seed', '1']); print('LOADED', 'pytorch_lightning' in sys.modules, file=sys.stderr); "
            "sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", code, str(tiny_checkpoint)], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and len(result.stdout) >= 40, result.stderr[-2000:]
    assert "LOADED False" in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize("architecture", ["lstm", "gpt"])
def test_the_short_help_names_only_options_lightnings_parser_knows(architecture):
    short = run("trainer", "fit", "--help").stdout
    full = run("trainer", "fit", "--architecture", architecture, "--help-all")
    assert full.returncode == 0, full.stderr[-2000:]
    for section, keys in CONFIG_KEYS.items():
        if ("gpt" in section) != (architecture == "gpt") and section.startswith("model"):
            continue
        for key in keys:
            assert key in " ".join(short.split()), (section, key)
            option = f"--{section.split(',')[0]}.{key}"
            assert option in full.stdout, f"fit --help names {option}, which LightningCLI's parser does not have"
    for option in re.findall(r"^  (?:-c, )?(--\w+)", short, re.M):
        assert option in full.stdout or option == "--help-all", option


def test_every_install_hint_gives_readmes_form_for_a_source_checkout():
    assert install_hint("serve").startswith("python -m pip install -e '.[serve]'")
    readme = (REPO / "README.md").read_text(encoding="utf-8") + (REPO / "docs" / "sharing.md").read_text()
    assert "pip install -e '.[serve]'" in readme and "pip install -e '.[export]'" in readme
    # no message of the code spells an install its own way: each goes through install_hint
    for path in [*(REPO / "trainer").rglob("*.py"), *(REPO / "pipeline").rglob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "pip install" in line and "def install_hint" not in line and "return f\"python -m pip" not in line:
                pytest.fail(f"{path.relative_to(REPO)}:{number} spells an install hint itself: use install_hint()")


def test_the_page_looks_for_onnxruntime_web_in_the_repositorys_own_cache():
    """README says `.cache/npm` at the top of the repository; a module that moved must still look there."""
    from trainer.sharing import webassets

    assert (webassets.REPO / "pyproject.toml").is_file() and webassets.NPM_CACHE == REPO / ".cache" / "npm"
    assert ".cache/npm" in webassets.ORT_WEB_FIX and "ORT_WEB_DIR" in webassets.ORT_WEB_FIX
