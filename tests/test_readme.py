"""README.md as written: its commands run, its quick tour runs and prints what it says.

Every command is taken from README.md itself (its ```bash blocks, the command-line synopsis,
and each `gradwise ...` / `python -m ...` in its text and tables), so an edit that breaks a
command, a path or an option fails here. Commands run in a fresh folder, in-process
(gradwise.cli.main is the `gradwise` script). A command that takes minutes runs in its
documented small form: the options of QUICK are appended after README's own (click takes an
option's last value), so the command's name, arguments and paths are README's.
"""
import ast
import contextlib
import io
import re
import shlex
import warnings
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from shared_data import DATA, needs_mnist

from gradwise.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


# ---- reading README ------------------------------------------------------------------------------
def section(title: str) -> str:
    """The text under '## title', up to the next '## ' heading."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def fenced(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.S | re.M)


def shell_commands(block: str) -> list[str]:
    """One entry per command of a bash block: comments dropped, `a && b` split."""
    commands = []
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        commands += [c.strip() for c in line.split("&&") if c.strip()]
    return commands


def inline_commands() -> list[str]:
    """Every `gradwise ...` and `python -m ...` code span in README's text and tables."""
    spans = re.findall(r"`((?:gradwise|python -m) [^`]*)`", README)
    return [s for s in spans if not re.search(r"\b[A-Z]{2,}\b", s)]   # COMMAND: a placeholder


def argv(command: str) -> list[str]:
    """'gradwise lab run x' or 'python -m gradwise lab run x' -> ['lab', 'run', 'x']; brackets
    around optional parts of a documented variant dropped."""
    words = shlex.split(command.replace("[", " ").replace("]", " "))
    if words[:3] == ["python", "-m", "gradwise"]:
        return words[3:]
    assert words[0] == "gradwise", command
    return words[1:]


# ---- what each command is given to run small ----------------------------------------------------
def quick(args: list[str]) -> list[str]:
    """Options appended to README's command: its documented small form."""
    if args[:2] == ["lab", "run"]:
        return ["--quick", "--no-progress"]
    extra = {"demo": ["--iterations", "50"],
             "search": ["--trials", "2", "--executor", "serial"],
             "train": ["--no-progress"],
             "verify": ["--epochs", "1", "--train-images", "300", "--no-progress"],
             "style": ["--size", "16", "--iterations", "2", "--no-progress"]}
    if args[0] == "detect" and "--train" in args:
        return ["--epochs", "1", "--n-train", "64", "--no-progress"]
    return extra.get(args[0], [])


NEEDS_MNIST = ("detect", "verify")     # the commands that read MNIST


def run(args: list[str]):
    out = CliRunner().invoke(main, args + quick(args))
    assert out.exit_code == 0, f"`gradwise {' '.join(args)}` failed:\n{out.output}"
    return out.output


def resolve(args: list[str]):
    """The click command that `args` names, the arguments left for it, and its words."""
    cmd, rest, path = main, list(args), []
    while isinstance(cmd, click.Group) and rest and rest[0] in cmd.commands:
        path.append(rest[0])
        cmd = cmd.commands[rest.pop(0)]
    return cmd, rest, path


def parses(args: list[str]) -> None:
    """click accepts README's command: the command exists, and its options and arguments
    have the forms and values it takes (nothing is run). A command named without arguments
    in the text (`gradwise style`) is a reference to it: it must exist."""
    cmd, rest, path = resolve(args)
    assert not isinstance(cmd, click.Group) and path == args[:len(path)], f"no command `gradwise {' '.join(args)}`"
    if not rest:
        return
    try:
        cmd.make_context(" ".join(["gradwise", *path]), rest)
    except click.ClickException as e:
        pytest.fail(f"README's `gradwise {' '.join(args)}`: {e.format_message()}")


def cli_block() -> list[str]:
    blocks = fenced(section("The command line"), "bash")
    assert len(blocks) == 1, "the command-line section has one block of commands to run"
    return shell_commands(blocks[0])


# ---- the tests ---------------------------------------------------------------------------------
def test_the_cli_block_runs_as_written(tmp_path, monkeypatch):
    """The command-line section's commands, in order, in an empty folder (those that read
    MNIST are the next test's); then every other command README names parses."""
    monkeypatch.chdir(tmp_path)
    commands = [argv(c) for c in cli_block()]
    assert ["train", "runs/search/best.json"] in commands       # what search writes, trained
    for args in commands:
        if args[0] in NEEDS_MNIST:
            continue
        output = run(args)
        if args[0] == "search":
            assert "train it: gradwise train runs/search/best.json" in output
    assert (tmp_path / "runs" / "train" / "model.npz").is_file()
    assert (tmp_path / "runs" / "lab" / "ewa.json").is_file() and (tmp_path / "house.png").is_file()
    for command in inline_commands() + cli_block():
        if command.startswith("python -m pytest"):
            words = shlex.split(command)
            path = ROOT / words[3]
            names = re.findall(r"^def (test_\w+)", path.read_text(), re.M)
            key = words[words.index("-k") + 1]
            assert any(key in name for name in names), f"`{command}` selects no test"
        elif command.startswith(("gradwise", "python -m gradwise ")):
            parses(argv(command))


@needs_mnist
def test_the_cli_blocks_mnist_commands_run_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRADWISE_DATA", str(DATA))
    commands = [argv(c) for c in cli_block() if argv(c)[0] in NEEDS_MNIST]
    assert [a[0] for a in commands] == ["detect", "detect", "detect", "verify"]
    for args in commands:
        run(args)
    assert (tmp_path / "runs" / "detect" / "digits.npz").is_file()
    assert (tmp_path / "boxes.png").is_file()
    assert (tmp_path / "runs" / "verify" / "embedding.npz").is_file()
    assert (tmp_path / "runs" / "verify" / "verify-mnist.json").is_file()


def test_the_synopsis_names_real_commands_options_and_choices():
    """Each line of the synopsis: its command exists, each --option is one of its options,
    and each `a|b` value of an option is one of the option's choices."""
    block = fenced(section("The command line"), "text")[0]
    for line in block.splitlines():
        line = re.split(r"\s{2,}", line.strip())[0]                  # the description dropped
        words = line.replace("[", " ").replace("]", " ").split()
        assert words[0] == "gradwise", line
        first, *others = " ".join(words[1:]).split(" | ")
        cmd, rest, path = resolve(first.split())
        forms = [(cmd, rest, path)]
        for alternative in others:          # `lab list | run ...`, or `detect --train | --sample ...`
            tokens = alternative.split()
            sibling = resolve([*path[:-1], *tokens])
            forms.append(sibling if len(sibling[2]) == len(path) else (cmd, tokens, path))
        for cmd, rest, path in forms:
            name = " ".join(path)
            assert path and not isinstance(cmd, click.Group), f"{line!r} names no command"
            options = {opt: p for p in cmd.params for opt in p.opts}
            for i, token in enumerate(rest):
                for flag in token.split("|"):
                    if flag.startswith("-"):
                        assert flag in options, f"{line!r}: {name} has no option {flag}"
                if token.startswith("-") and "|" not in token and i + 1 < len(rest):
                    kind = options[token].type
                    if isinstance(kind, click.Choice) and "|" in rest[i + 1]:
                        for choice in rest[i + 1].split("|"):
                            assert choice in kind.choices, f"{line!r}: {token} takes no {choice!r}"


def test_the_setup_commands_run_as_written(tmp_path, monkeypatch):
    """`python -m pip install -e . && gradwise lab run --all --available && gradwise lab
    report --brief`: the install names this project and its extras; each gradwise command
    exits 0, as `&&` needs. It runs with no datasets (those experiments are test_lab*'s), so
    --all --available runs the experiments on generated data and lists the others once as
    not run for missing data."""
    import gradwise.datasets._store as store

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRADWISE_DATA", str(tmp_path / "no-datasets"))
    monkeypatch.setattr(store, "cache_dir", lambda: tmp_path / "no-cache")
    extras = set(re.findall(r"^([\w-]+) = ", re.search(r"^\[project\.optional-dependencies\]\n(.*?)^\[",
                            (ROOT / "pyproject.toml").read_text(), re.S | re.M).group(1), re.M))
    assert {"test", "reference", "ray"} <= extras
    blocks = fenced(section("Set up"), "bash")
    assert len(blocks) == 2
    ran = []
    for command in shell_commands(blocks[0]) + shell_commands(blocks[1]):
        words = shlex.split(command)
        if words[:4] == ["python", "-m", "pip", "install"]:
            spec = words[words.index("-e") + 1]
            asked = re.fullmatch(r"\.(?:\[([\w,]+)\])?", spec)
            assert asked, f"`{command}` does not install this checkout"
            assert set(filter(None, (asked.group(1) or "").split(","))) <= extras, command
        elif words[:3] == ["python", "-m", "pytest"]:
            assert words[3:] == ["-q"]           # the suite, as pyproject's testpaths set it
        else:
            ran.append(run(argv(command)))
    assert len(ran) == 2
    assert "not run: data missing: " in ran[0].splitlines()[-1]
    assert "| experiment | reference | key numbers: gradwise (published) |" in ran[1]
    assert "not run: data missing: " in ran[1]


def test_the_readme_says_where_the_tests_find_the_data():
    text = section("Set up")
    assert "`$GRADWISE_DATA`" in text and "`../shared/datasets` beside the checkout" in text
    assert "never" in text and "download" in text


# ---- the quick tour ------------------------------------------------------------------------------
NUMBER = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def close(value: float, claim: str) -> bool:
    """A number README prints matches loosely: an exponent form (1.7e-10) within a factor of
    3, a decimal (0.12, 0.955) within 2% or one unit of its last digit."""
    c = float(claim)
    if "e" in claim:
        return c / 3 <= value <= c * 3
    decimals = len(claim.split(".")[1]) if "." in claim else 0
    return abs(value - c) <= max(0.02 * abs(c), 10.0 ** -decimals)


def matches_literal(value, claim) -> bool:
    if isinstance(claim, dict):
        return isinstance(value, dict) and value.keys() == claim.keys() and all(
            matches_literal(value[k], claim[k]) for k in claim)
    if isinstance(claim, float):
        return close(float(value), repr(claim))
    return value == claim


def matches_text(output: str, claim: str) -> bool:
    """Printed output against a comment such as 'gradcheck passed: difference 1.7e-10 ...':
    the words equal, the numbers close, '...' anything after."""
    claim = claim.strip()
    rest = claim.endswith("...")
    parts = re.split(f"({NUMBER})", claim.removesuffix("...").strip())
    pattern = "".join(f"({NUMBER})" if i % 2 else re.escape(p) for i, p in enumerate(parts))
    m = re.match(pattern + ("" if rest else r"\s*$"), output.strip())
    return bool(m) and all(close(float(v), c) for v, c in zip(m.groups(), parts[1::2]))


def test_the_quick_tour_runs_as_written_and_prints_what_it_says(tmp_path, monkeypatch):
    """The python blocks of 'A quick tour', one after another in one namespace, as a reader
    runs them; a line whose comment is a Python literal must evaluate to it, and a print
    followed by a comment line must print it (numbers loosely, see close)."""
    monkeypatch.chdir(tmp_path)
    blocks = fenced(section("A quick tour"), "python")
    assert len(blocks) == 3
    namespace, claims = {}, 0
    for block in blocks:
        lines = block.splitlines()
        for stmt in ast.parse(block).body:
            last = lines[stmt.end_lineno - 1]
            comment = last.split("#", 1)[1].strip() if "#" in last else ""
            following = lines[stmt.end_lineno].strip() if stmt.end_lineno < len(lines) else ""
            try:
                literal = ast.literal_eval(comment)
            except (ValueError, SyntaxError):
                literal = None
            if isinstance(stmt, ast.Expr) and isinstance(literal, dict):
                value = eval(compile(ast.Expression(stmt.value), "README", "eval"), namespace)
                assert matches_literal(value, literal), (ast.unparse(stmt), value, literal)
                claims += 1
                continue
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(ast.Module([stmt], []), "README", "exec"), namespace)
            if following.startswith("# ") and isinstance(stmt, ast.Expr) and \
                    getattr(stmt.value.func, "id", None) == "print":
                assert matches_text(printed.getvalue(), following[2:]), (following, printed.getvalue())
                claims += 1
    assert claims == 2
    assert (tmp_path / "moons.npz").is_file()


def test_out_of_gradwise_runs_as_written(tmp_path, monkeypatch):
    """The export block: ONNX in onnxruntime (the printed True is checked), the importer, a
    safetensors file torch can load, and the picture (or its DOT text without Graphviz)."""
    pytest.importorskip("onnxruntime")
    monkeypatch.chdir(tmp_path)
    (block,) = fenced(section("Out of gradwise"), "python")
    lines = block.splitlines()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)      # no Graphviz: the .dot text instead
        exec(compile(block, "README", "exec"), {})
    claim = next(line for line in lines if line.startswith("# "))
    assert printed.getvalue().strip() == claim[2:]
    assert {"simple_convnet.onnx", "simple_convnet.safetensors"} <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "simple_convnet.svg").exists() or (tmp_path / "simple_convnet.dot").exists()
    assert (ROOT / "docs" / "images" / "simple_convnet.svg").is_file()   # the picture README shows
