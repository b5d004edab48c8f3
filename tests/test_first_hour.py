"""What a newcomer meets in the first hour: versions, help texts and install hints that point at the real fix."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from trainer.errors import install_hint

REPO = Path(__file__).resolve().parents[1]


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("program", ["pipeline", "trainer"])
def test_version_names_the_project_not_the_command(program):
    result = run(program, "--version")
    assert result.returncode == 0 and re.fullmatch(r"gutenberg-lstm \d+\.\d+\.\d+", result.stdout.strip()), result


def test_lightnings_commands_are_described_in_whole_sentences():
    result = run("trainer", "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    listed = result.stdout.split("{fit,validate,test,generate,serve,export}\n")[1].split("examples:")[0]
    names = "fit|validate|test|generate|serve|export"
    summaries = dict(re.findall(rf"({names}) (.+?)(?= (?:{names}) [A-Z]|$)", " ".join(listed.split())))
    assert sorted(summaries) == sorted(names.split("|")), summaries
    for command, summary in summaries.items():
        assert summary.endswith("."), (command, summary)  # Lightning's own stop mid-sentence
    assert "It's separated from fit" not in result.stdout
    assert "Measure a checkpoint on the test split" in run("trainer", "test", "--help").stdout


def test_every_install_hint_gives_readmes_form_for_a_source_checkout():
    assert install_hint("serve").startswith("python -m pip install -e '.[serve]'")
    readme = (REPO / "README.md").read_text(encoding="utf-8") + (REPO / "docs" / "sharing.md").read_text()
    assert "pip install -e '.[serve]'" in readme and "pip install -e '.[export]'" in readme
    # no message of the code spells an install its own way: each goes through install_hint
    for path in [*(REPO / "trainer").rglob("*.py"), *(REPO / "pipeline").rglob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "pip install" in line and "def install_hint" not in line and "return f\"python -m pip" not in line:
                pytest.fail(f"{path.relative_to(REPO)}:{number} spells an install hint itself: use install_hint()")
