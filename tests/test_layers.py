"""The house keeps its plan: layers point one way and no module imports itself round a cycle.

The contracts live in pyproject.toml (``[tool.importlinter]``) and are checked by ``lint-imports``;
the cycle check walks grimp's graph of every import between the project's own modules, the lazy
ones inside functions included. Both are also run on a copy of the code with a planted upward
import, so that a check which could not fail would show here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")
pytest.importorskip("importlinter")

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "trainer")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` over the packages under ``root``, with ``root``'s pyproject.toml."""
    env = dict(os.environ, PYTHONPATH=str(root))
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code, "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def import_cycles(root: Path) -> list[list[str]]:
    """Every strongly connected set of two or more modules (or a module importing itself), by Tarjan."""
    code = f"""
import json, sys
sys.path.insert(0, {str(root)!r})
import grimp
graph = grimp.build_graph(*{PACKAGES!r}, cache_dir=None)
print(json.dumps({{m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(root)), check=True)
    import json

    edges = json.loads(result.stdout)
    # a package's __init__ is a module like any other; importing a parent package is an edge to it
    index, low, on_stack, stack, cycles, counter = {}, {}, set(), [], [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in sorted(edges):
        if module not in index:
            visit(module)
    return cycles


@pytest.fixture
def code_copy(tmp_path) -> Path:
    """The packages and pyproject.toml, copied, so that a planted import never touches the real tree."""
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(root: Path, module: str, line: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    text = path.read_text(encoding="utf-8")
    # after the module docstring and the __future__ import, where an import would really be written
    marker = "from __future__ import annotations\n"
    assert marker in text, path
    path.write_text(text.replace(marker, marker + line + "\n", 1), encoding="utf-8")


def test_the_import_contracts_are_kept():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "3 kept" in result.stdout, result.stdout[-2000:]


def test_no_module_of_the_project_imports_itself_round_a_cycle():
    assert import_cycles(REPO) == []


@pytest.mark.parametrize("module, line, contract", [
    # a leaf package reaching up into the build: the kind of import that made the old cycles
    ("pipeline.corpus.verify", "from ..build import report  # noqa", "pipeline: the CLI and the build above"),
    # the config importing what uses it
    ("pipeline.config", "from .discover import selectors  # noqa", "pipeline: the CLI and the build above"),
    # two leaf packages that must stay apart
    ("pipeline.clean.cleaner", "from ..fetch import site  # noqa", "pipeline: the CLI and the build above"),
    ("trainer.models.lstm", "from ..data import tokenizer  # noqa", "trainer: the CLI and sharing above"),
    ("trainer.checkpoint", "from .sharing import generate  # noqa", "trainer: the CLI and sharing above"),
    # the pipeline and the trainer meet only in files
    ("trainer.data.corpus", "import pipeline.corpus.versions  # noqa", "meet only in files on disk"),
])
def test_a_planted_upward_import_breaks_a_contract(code_copy, module, line, contract):
    plant(code_copy, module, line)
    result = lint_imports(code_copy)
    assert result.returncode != 0, result.stdout[-3000:]
    broken = [row for row in result.stdout.splitlines() if row.rstrip().endswith("BROKEN")]
    assert broken, result.stdout[-3000:]
    # the report names the contract and the module that broke it
    assert contract.split(":")[0] in result.stdout and module in result.stdout, result.stdout[-3000:]


def test_a_planted_cycle_is_found(code_copy):
    plant(code_copy, "pipeline.book", "from .fetch import site  # noqa")
    plant(code_copy, "pipeline.fetch.site", "from .. import book  # noqa")
    cycles = import_cycles(code_copy)
    assert any({"pipeline.book", "pipeline.fetch.site"} <= set(cycle) for cycle in cycles), cycles


def test_every_package_says_what_it_owns_and_what_it_may_import():
    for package in PACKAGES:
        for init in sorted((REPO / package).rglob("__init__.py")):
            source = init.read_text(encoding="utf-8")
            assert source.lstrip().startswith('"""'), f"{init} has no docstring"
            docstring = source.split('"""')[1]
            assert len(docstring.split()) >= 30, f"{init}: say what the package owns and what it may import"


def test_no_package_folder_holds_more_than_one_screen_of_modules():
    """The plan shows in the folder listing: no folder of code grows back into a flat heap."""
    for package in PACKAGES:
        for folder in [REPO / package, *[p for p in (REPO / package).rglob("*") if p.is_dir()]]:
            modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
            assert len(modules) <= 12, f"{folder} holds {len(modules)} modules: split it by job"
