"""The lab: every experiment's --quick form runs and reproduces its key numbers; the CLI
lists, runs and reports."""
import json

import pytest
from click.testing import CliRunner

from gradwise.cli import main
from gradwise.lab import REGISTRY

QUICK_CHECKS = {
    # experiment -> {check name: (reference, tolerance)} asserted on the quick run
    "perceptron": {"XOR by two layers (NAND, OR -> AND)": (1.0, 0.0),
                   "XOR: best single perceptron accuracy": (0.75, 0.0)},
    "gradient_checking": {"N-D difference, backprop by autograd": (1.19e-7, 5e-8),
                          "N-D difference with the broken backward": (0.2850931567761623, 1e-6)},
}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_quick_run_reproduces(name, tmp_path):
    result = REGISTRY[name].run(tmp_path, quick=True, progress=False)
    assert result.checks, f"{name} recorded no comparison with a reference"
    failed = [c for c in result.checks if not c["ok"]]
    assert not failed, f"{name}: not reproduced: {failed}"
    by_name = {c["name"]: c for c in result.checks}
    for check, (reference, tol) in QUICK_CHECKS.get(name, {}).items():
        assert abs(by_name[check]["ours"] - reference) <= tol
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert saved["reproduced"] is True
    for plot in saved["plots"]:
        assert (tmp_path / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_experiment_has_explicit_quick_assertions():
    missing = sorted(set(REGISTRY) - set(QUICK_CHECKS))
    assert not missing, f"add key-number assertions for: {missing}"


def test_cli_list_run_report(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(main, ["lab", "list"])
    assert listed.exit_code == 0 and "perceptron" in listed.output
    ran = runner.invoke(main, ["lab", "run", "perceptron", "--quick", "--no-progress", "--out", str(tmp_path)])
    assert ran.exit_code == 0, ran.output
    assert "1/1 experiment(s) reproduced" in ran.output
    report = runner.invoke(main, ["lab", "report", "--out", str(tmp_path), "--write", str(tmp_path / "t.md")])
    assert report.exit_code == 0
    assert "| experiment | reference | gradwise | reproduced | plots |" in report.output
    assert "Perceptron" in (tmp_path / "t.md").read_text()


def test_cli_errors_are_clear(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(main, ["lab", "run", "nope"])
    assert bad.exit_code != 0 and "unknown experiment" in bad.output
    empty = runner.invoke(main, ["lab", "report", "--out", str(tmp_path / "none")])
    assert empty.exit_code != 0 and "no results" in empty.output
    assert runner.invoke(main, ["--help"]).exit_code == 0
