"""The command line: `gradwise lab list/run/report`, `gradwise demo`, `python -m gradwise`."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradwise.cli import main
from gradwise.lab import REGISTRY

FAST = ["gradient_checking", "ewa"]   # the two experiments that take about a second


@pytest.fixture
def runner():
    return CliRunner()


def test_help_lists_every_command(runner):
    out = runner.invoke(main, ["--help"])
    assert out.exit_code == 0 and "lab" in out.output and "demo" in out.output
    out = runner.invoke(main, ["lab", "--help"])
    assert all(cmd in out.output for cmd in ("list", "run", "report", "recipe"))


def test_list_names_every_experiment_and_its_data(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("GRADWISE_DATA", str(tmp_path))          # an empty data folder
    monkeypatch.setenv("HOME", str(tmp_path))                     # and an empty cache
    out = runner.invoke(main, ["lab", "list"])
    assert out.exit_code == 0
    for name in REGISTRY:
        assert name in out.output
    assert "needs course/data.mat (not found)" in out.output


def test_run_writes_json_and_png_and_a_summary_line(runner, tmp_path):
    out = runner.invoke(main, ["lab", "run", *FAST, "--quick", "--no-progress", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "2/2 experiment(s) reproduced" in out.output.splitlines()[-1]
    for name in FAST:
        saved = json.loads((tmp_path / f"{name}.json").read_text())
        assert saved["reproduced"] and saved["plots"]
        assert all((tmp_path / p).is_file() for p in saved["plots"])


def test_report_writes_the_table_with_links_relative_to_the_file(runner, tmp_path):
    results = tmp_path / "results"
    assert runner.invoke(main, ["lab", "run", "ewa", "--no-progress", "--out", str(results)]).exit_code == 0
    md = tmp_path / "docs" / "RESULTS.md"
    md.parent.mkdir()
    out = runner.invoke(main, ["lab", "report", "--out", str(results), "--write", str(md)])
    assert out.exit_code == 0, out.output
    assert "| experiment | reference | gradwise | reproduced | plots |" in out.output
    assert "1/1 reproduced" in out.output
    table = md.read_text()
    assert "quiz: v_2 with bias correction: 10" in table and "| yes |" in table
    assert "(../results/ewa-temperatures.png)" in table          # resolves from docs/


def test_brief_report_shows_the_headline_checks(runner, tmp_path):
    results = tmp_path / "results"
    assert runner.invoke(main, ["lab", "run", "ewa", "--no-progress", "--out", str(results)]).exit_code == 0
    out = runner.invoke(main, ["lab", "report", "--brief", "--out", str(results)])
    assert out.exit_code == 0, out.output
    header, rule, row = out.output.splitlines()[:3]
    assert header.startswith("| experiment | reference | key numbers: gradwise (published) |")
    assert row.count(" | ") == header.count(" | ")                # one cell per column
    # ewa names two headline checks (the quiz), out of its nine checks
    assert "v2: 7.5 (7.5)<br>v2 corrected: 10 (10)" in row
    assert "| 9/9 | yes | `gradwise lab run ewa`" in row


def test_brief_report_falls_back_to_the_first_checks_and_marks_failures(tmp_path):
    from gradwise.lab import Result
    from gradwise.lab.report import brief_markdown

    checks = [{"name": "a", "ours": 1.0, "reference": 2.0, "tol": 0.1, "ok": False},
              {"name": "b", "ours": 3.0, "reference": 3.0, "tol": 0.0, "ok": True},
              {"name": "c", "ours": 4.0, "reference": 4.0, "tol": 0.0, "ok": True}]
    r = Result("not_registered", "T", "S", False, False, checks, {}, [], 1.0)
    row = brief_markdown([r]).splitlines()[2]
    assert "a: 1 (2) ✗<br>b: 3 (3) |" in row and "| 2/3 | no |" in row


def test_errors_are_clear(runner, tmp_path):
    bad = runner.invoke(main, ["lab", "run", "nope"])
    assert bad.exit_code == 2 and "unknown experiment(s) nope" in bad.output
    none = runner.invoke(main, ["lab", "run"])
    assert none.exit_code == 2 and "name an experiment" in none.output
    both = runner.invoke(main, ["lab", "run", "ewa", "--all"])
    assert both.exit_code == 2 and "not both" in both.output
    empty = runner.invoke(main, ["lab", "report", "--out", str(tmp_path / "none")])
    assert empty.exit_code == 1 and "no results in" in empty.output
    assert runner.invoke(main, ["demo", "--iterations", "0"]).exit_code == 2


def test_missing_data_is_reported_or_skipped(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("GRADWISE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path))
    out = runner.invoke(main, ["lab", "run", "regularization", "--no-progress", "--out", str(tmp_path)])
    assert out.exit_code == 1                        # asked for by name, it could not run
    assert "regularization: not run: data missing (course/data.mat)" in out.output
    assert "dataset file 'course/data.mat' not found" in out.output      # the loader's words
    assert out.output.splitlines()[-1].endswith("not run: data missing: regularization")
    out = runner.invoke(main, ["lab", "run", "regularization", "ewa", "--available", "--no-progress",
                               "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "== regularization: not run: data missing (course/data.mat)" in out.output
    assert "no public mirror serves their files" in out.output
    assert out.output.splitlines()[-1].endswith("not run: data missing: regularization")


def test_downloadable_data_is_not_skipped_and_offline_is_a_clear_failure(runner, monkeypatch,
                                                                           tmp_path):
    """MNIST has public mirrors: `lab list` says it downloads on first use and --available
    runs the experiment; with the network down the run fails naming the files, not a trace."""
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("GRADWISE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path))
    listing = runner.invoke(main, ["lab", "list"]).output
    two_layer = next(line for line in listing.splitlines() if line.startswith("two_layer_net"))
    assert two_layer.endswith("(not here: downloaded on first use)")
    regularization = next(line for line in listing.splitlines() if line.startswith("regularization"))
    assert regularization.endswith("(not found)")
    out = runner.invoke(main, ["lab", "run", "two_layer_net", "--quick", "--no-progress",
                               "--out", str(tmp_path)])
    assert out.exit_code == 1
    assert "two_layer_net: not run: data missing (mnist/train-images-idx3-ubyte.gz" in out.output
    assert "download failed" in out.output and "network is unreachable" in out.output


def test_offline_mnist_experiments_are_listed_once_as_data_missing(runner, monkeypatch, tmp_path):
    """Offline, the first MNIST experiment tries the mirrors once; the others are not run
    either, each in one line, the loader's explanation printed once; no empty cache folder."""
    import urllib.request

    calls = []

    def offline(url, *args, **kwargs):
        calls.append(url)
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("GRADWISE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    book = ["two_layer_net", "optimizer_comparison", "weight_init", "batch_norm"]
    results = tmp_path / "results"
    out = runner.invoke(main, ["lab", "run", *book, "ewa", "regularization", "--available",
                               "--quick", "--no-progress", "--out", str(results)])
    assert out.exit_code == 0, out.output             # --available: missing data is no failure
    assert len(calls) == 2                            # one file, two mirrors, once
    assert out.output.count("looked for it at") == 1 and out.output.count("Traceback") == 0
    for name in book + ["regularization"]:
        assert out.output.count(f"{name}: not run: data missing (") == 1, name
    last = out.output.splitlines()[-1]
    assert last.startswith("1/1 experiment(s) reproduced in ") and last.endswith(
        f"results in {results}/; not run: data missing: {', '.join(book)}, regularization")
    assert not (tmp_path / "home").exists()
    report = runner.invoke(main, ["lab", "report", "--brief", "--out", str(results)])
    assert report.exit_code == 0, report.output
    lines = report.output.splitlines()
    assert "1/1 reproduced" in lines
    data_line = next(line for line in lines if line.startswith("not run: data missing: "))
    assert set(data_line.removeprefix("not run: data missing: ").split(", ")) >= {*book, "regularization"}
    other = next(line for line in lines if line.startswith("not run: ") and line != data_line)
    assert "planar" in other and "ewa" not in other


def test_a_failed_reproduction_exits_nonzero(runner, tmp_path, monkeypatch):
    from gradwise.lab.core import experiment

    @experiment("always_off", "a check that fails", "nowhere")
    def _off(run):
        run.check("one", 2.0, 1.0, 0.1)

    try:
        out = runner.invoke(main, ["lab", "run", "always_off", "--no-progress", "--out", str(tmp_path)])
        assert out.exit_code == 1 and "MISS one: 2 vs 1" in out.output
        assert "0/1 experiment(s) reproduced" in out.output
    finally:
        del REGISTRY["always_off"]


def test_demo_trains(runner):
    out = runner.invoke(main, ["demo", "--iterations", "50", "--lr", "0.5"])
    assert out.exit_code == 0, out.output
    assert "loss curve" in out.output and "train accuracy" in out.output


def test_python_dash_m_is_the_same_command():
    out = subprocess.run([sys.executable, "-m", "gradwise", "lab", "list"], capture_output=True,
                         text=True, cwd=Path(__file__).parent, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "planar" in out.stdout


# ---- every command makes its output folders before it works, and fails fast on a bad path ----
MOONS = {"dataset": "moons", "epochs": 2, "n_samples": 200}


def test_train_makes_its_output_folder(runner, tmp_path, monkeypatch):
    config = tmp_path / "c.json"
    config.write_text(json.dumps(MOONS))
    out = runner.invoke(main, ["train", str(config), "--out", str(tmp_path / "new" / "deeper"),
                               "--no-progress"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "new" / "deeper" / "model.npz").is_file()
    monkeypatch.chdir(tmp_path)                       # the default, runs/train, in a fresh folder
    out = runner.invoke(main, ["train", str(config), "--no-progress"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "runs" / "train" / "model.npz").is_file()


def test_style_makes_the_folders_of_its_image_and_costs(runner, tmp_path):
    image, costs = tmp_path / "images" / "h.png", tmp_path / "logs" / "costs.json"
    out = runner.invoke(main, ["style", "-o", str(image), "--size", "16", "--iterations", "2",
                               "--costs", str(costs), "--no-progress"])
    assert out.exit_code == 0, out.output
    assert image.is_file() and (tmp_path / "images" / "h-style.png").is_file()
    assert len(json.loads(costs.read_text())["J"]) >= 2


def _refuse_work(monkeypatch):
    """Every function that trains, searches or optimizes fails the test if it is reached."""
    import gradwise.lab.mnist
    import gradwise.search.commands
    import gradwise.vision.detection.digits
    import gradwise.vision.face.one_shot
    import gradwise.vision.style

    def reached(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    for module, name in [(gradwise.search.commands, "train_config"),
                         (gradwise.search.commands, "random_search"),
                         (gradwise.vision.face.one_shot, "one_shot_demo"),
                         (gradwise.vision.detection.digits, "train_digit_detector"),
                         (gradwise.vision.detection.digits, "write_sample"),
                         (gradwise.vision.detection.digits, "detect_file"),
                         (gradwise.vision.style, "transfer_style"),
                         (gradwise.lab.mnist, "transfer_digits"),
                         (gradwise.lab.mnist, "train_recipe")]:
        monkeypatch.setattr(module, name, reached)
    monkeypatch.setattr(REGISTRY["ewa"], "fn", reached)


def test_an_unwritable_output_path_fails_before_any_work(runner, tmp_path, monkeypatch):
    _refuse_work(monkeypatch)
    blocker = tmp_path / "notes.txt"                  # a file where a folder would have to be
    blocker.write_text("mine")
    config = tmp_path / "c.json"
    config.write_text(json.dumps(MOONS))
    image = tmp_path / "in.png"
    image.write_bytes(b"not needed")
    bad = str(blocker / "sub")
    commands = [
        ["train", str(config), "--out", bad],
        ["search", "--trials", "1", "--executor", "serial", "--out", bad],
        ["verify", "--out", bad],
        ["verify", "--out", str(tmp_path / "v"), "--save-model", f"{bad}/m.npz"],
        ["detect", "--train", "--weights", f"{bad}/w.npz"],
        ["detect", "--sample", f"{bad}/canvas.png"],
        ["detect", str(image), "-o", f"{bad}/boxes.png"],
        ["style", "-o", f"{bad}/h.png"],
        ["style", "-o", str(tmp_path / "h.png"), "--costs", f"{bad}/c.json"],
        ["lab", "run", "ewa", "--out", bad],
        ["lab", "report", "--write", f"{bad}/r.md"],
        ["lab", "recipe", "transfer", "--json", f"{bad}/r.json"],
        ["lab", "recipe", "lenet5", "--json", f"{bad}/r.json"],
    ]
    for args in commands:
        out = runner.invoke(main, args)
        assert out.exit_code in (1, 2), (args, out.output)
        assert "cannot write to" in out.output and "notes.txt" in out.output, (args, out.output)
        assert out.exception is None or isinstance(out.exception, SystemExit), (args, out.exception)
    out = runner.invoke(main, ["style", "-o", str(tmp_path / "h.gif")])
    assert out.exit_code == 2 and "write a .png or .jpg" in out.output


def test_recipe_runs_a_cnn_recipe_and_writes_its_record(runner, tmp_path, monkeypatch):
    """`gradwise lab recipe NAME`: the recipe trained with the options given (here a stand-in
    for the 20 epochs), its record printed and written as JSON; bad names and options refused."""
    import gradwise.lab.mnist as recipes

    calls = []

    def train_recipe(name, seed=0, epochs=None, data_dir=None, log=print):
        calls.append((name, seed, epochs, data_dir))
        return recipes.Record(name, [{"epoch": 1, "loss": 0.5, "test_accuracy": 0.9}], 0.9, 1.0)

    monkeypatch.setattr(recipes, "train_recipe", train_recipe)
    record = tmp_path / "out" / "lenet5.json"
    out = runner.invoke(main, ["lab", "recipe", "lenet5", "--epochs", "1", "--seed", "3",
                               "--data-dir", str(tmp_path), "--json", str(record)])
    assert out.exit_code == 0, out.output
    assert calls == [("lenet5", 3, 1, str(tmp_path))]
    assert json.loads(record.read_text())["test_accuracy"] == 0.9
    out = runner.invoke(main, ["lab", "recipe", "vgg"])
    assert out.exit_code == 2 and "no recipe 'vgg'" in out.output and "lenet5_relu" in out.output
    out = runner.invoke(main, ["lab", "recipe", "transfer", "--epochs", "2"])
    assert out.exit_code == 2 and "--epochs" in out.output
