"""The documentation runs: every tutorial executes as a notebook, and the site builds.

Each page of docs/tutorials/ is a jupytext Markdown file: mkdocs renders it as a page, and
jupytext turns it into the notebook run here, headless, by nbclient on the python3 kernel
(ipykernel), in a fresh folder, with a time limit per cell. A failing cell fails the test with
its number, its source and the error. The kernel imports this checkout's gradwise (src/ first
on PYTHONPATH) and reads the datasets from the tests' folder (tests/shared_data.py) when it
exists; a tutorial that reads MNIST also runs without it, on its generated fallback, with an
empty download cache, so no path of a page ever downloads.

The site is built with `mkdocs build --strict` (a warning fails it: a broken link, an API page
whose module does not load). Each test is skipped, naming the package, only when the `docs`
extra is not installed (pip install -e ".[docs]").
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import DATA

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("[0-9][0-9]-*.md"))
CELL_TIMEOUT = 120   # seconds for any one cell; each page takes seconds in all
ANSI = re.compile(r"\x1b\[[0-9;]*m")
API_PAGES = ("tensor", "functional", "nn", "optim", "data", "train", "io", "onnx", "viz")


def require(module: str):
    """The module, or a skip that names the package to install."""
    return pytest.importorskip(module, reason=f"{module} is not installed (pip install -e '.[docs]')")


def reads_mnist(page: Path) -> bool:
    return "load_mnist" in page.read_text()


def run_notebook(page: Path, cwd: Path) -> None:
    """Execute the page as a notebook in `cwd`; fail with the failing cell and its error."""
    jupytext, nbclient = require("jupytext"), require("nbclient")
    require("ipykernel")
    nb = jupytext.read(page)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except (nbclient.exceptions.CellExecutionError, nbclient.exceptions.CellTimeoutError,
            nbclient.exceptions.DeadKernelError) as e:
        code = [c for c in nb.cells if c.cell_type == "code"]
        failed = next((k for k, c in enumerate(code, 1)
                       if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"code cell {failed} of {len(code)}" if failed else "a code cell"
        message = ANSI.sub("", str(e))   # IPython colours its tracebacks
        pytest.fail(f"{page.relative_to(ROOT)}: {where} failed:\n{message}", pytrace=False)


@pytest.fixture
def kernel_env(monkeypatch):
    """What the kernel inherits: this checkout's source first on the path (the tests' own
    pythonpath), and matplotlib's font cache (which another HOME would rebuild)."""
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src")] + ([path] if path else [])))
    if "MPLCONFIGDIR" not in os.environ:
        matplotlib = pytest.importorskip("matplotlib")
        monkeypatch.setenv("MPLCONFIGDIR", matplotlib.get_cachedir())
    return monkeypatch


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 6, [p.name for p in TUTORIALS]


@pytest.mark.parametrize("page", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs(page, tmp_path, kernel_env):
    if DATA.is_dir():
        kernel_env.setenv("GRADWISE_DATA", str(DATA))
    run_notebook(page, tmp_path)


@pytest.mark.parametrize("page", [p for p in TUTORIALS if reads_mnist(p)], ids=lambda p: p.stem)
def test_tutorial_runs_without_datasets(page, tmp_path, kernel_env):
    """No GRADWISE_DATA and an empty home (so an empty download cache): the generated data."""
    home = tmp_path / "home"
    home.mkdir()
    kernel_env.setenv("HOME", str(home))
    kernel_env.delenv("GRADWISE_DATA", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    run_notebook(page, work)
    assert not (home / ".cache" / "gradwise").exists(), "the tutorial downloaded a dataset"


def test_docs_build(tmp_path):
    require("mkdocs")   # mkdocstrings and its Python handler come with it in the docs extra
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    assert (site / "index.html").is_file()
    for page in TUTORIALS:
        html = site / "tutorials" / page.stem / "index.html"
        assert html.is_file(), f"no page for {page.name}"
        text = html.read_text()
        assert 'class="language-python"' in text, f"{page.name}: no code on the page"
        assert "kernelspec" not in text, f"{page.name}: the notebook header shows on the page"
    for name in API_PAGES:
        html = (site / "api" / name / "index.html").read_text()
        assert 'class="doc doc-heading"' in html, f"api/{name}: no documented object rendered"
