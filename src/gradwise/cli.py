"""The `gradwise` command line (click); `python -m gradwise` is the same command.

    gradwise lab list                         the experiments, their sources, the data they need
    gradwise lab run NAME [NAME...] [--quick] [--out DIR]
    gradwise lab run --all [--quick] [--available]
    gradwise lab report [--out DIR] [--write FILE]
    gradwise demo                             a small MLP on generated spirals
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

DEFAULT_OUT = "runs/lab"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradwise")
def main():
    """gradwise: deep learning from first principles on NumPy, and a lab that reproduces
    the classic results."""


@main.group()
def lab():
    """Reproduce the course's and the book's published results.

    Each experiment trains on the public API, compares its numbers with the published
    ones, and writes OUT/NAME.json and OUT/NAME-*.png. Course datasets are read from
    $GRADWISE_DATA (see gradwise.datasets)."""


@lab.command("list")
def lab_list():
    """List the experiments: name, what it reproduces, its source, the data it needs."""
    from .lab import REGISTRY

    width = max(len(n) for n in REGISTRY)
    for name, exp in REGISTRY.items():
        missing = exp.missing_data()
        data = f"  needs {', '.join(exp.needs)}" + (" (not found)" if missing else "") if exp.needs else ""
        click.echo(f"{name:<{width}}  {exp.title}  [{exp.source}]{data}")


@lab.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every experiment.")
@click.option("--available", is_flag=True,
              help="Skip (and list) the experiments whose dataset files are not on this machine.")
@click.option("--quick", is_flag=True, help="A smaller run that checks the key numbers (as the tests do).")
@click.option("--out", type=click.Path(file_okay=False), default=DEFAULT_OUT, show_default=True,
              help="Folder for the JSON results and PNG plots.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def lab_run(names, run_all, available, quick, out, no_progress):
    """Run experiments NAMES (or --all) and compare them with the published numbers.

    Exits with status 1 unless every experiment that ran reproduced its reference."""
    from .datasets import DatasetIntegrityError
    from .lab import REGISTRY

    if run_all and names:
        raise click.UsageError("give experiment names or --all, not both")
    if run_all:
        names = tuple(REGISTRY)
    if not names:
        raise click.UsageError("name an experiment (see `gradwise lab list`) or pass --all")
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise click.UsageError(f"unknown experiment(s) {', '.join(unknown)}; see `gradwise lab list`")
    names = list(dict.fromkeys(names))
    start, reproduced, failed, skipped = time.perf_counter(), [], [], []
    for name in names:
        exp = REGISTRY[name]
        missing = exp.missing_data()
        if available and missing:
            click.echo(f"== {name}: skipped, its data is not here ({', '.join(missing)})")
            skipped.append(name)
            continue
        click.echo(f"== {name}: {exp.title}" + (" (quick)" if quick else ""))
        try:
            result = exp.run(Path(out), quick=quick, progress=not no_progress)
        except (FileNotFoundError, DatasetIntegrityError) as e:
            click.echo(f"{name}: not run: {e}", err=True)
            failed.append(name)
            continue
        click.echo(result.summary())
        (reproduced if result.reproduced else failed).append(name)
    ran = len(reproduced) + len(failed)
    line = (f"{len(reproduced)}/{ran} experiment(s) reproduced in {time.perf_counter() - start:.1f} s; "
            f"results in {out}/")
    if failed:
        line += f"; not reproduced: {', '.join(failed)}"
    if skipped:
        line += f"; skipped for missing data: {', '.join(skipped)}"
    click.echo(line)
    sys.exit(1 if failed else 0)


@lab.command("report")
@click.option("--out", type=click.Path(file_okay=False), default=DEFAULT_OUT, show_default=True,
              help="Folder the results were written to.")
@click.option("--write", type=click.Path(dir_okay=False), default=None,
              help="Also write the table to this Markdown file (plot links relative to it).")
def lab_report(out, write):
    """Print the Markdown table of results: experiment, reference, gradwise, reproduced, plots."""
    from .lab import collect, markdown
    from .lab.core import _atomic_write

    results = collect(Path(out))
    if not results:
        raise click.ClickException(f"no results in {out}/: run `gradwise lab run --all` first")
    click.echo(markdown(results, plots_prefix=f"{out}/"))
    n = sum(r.reproduced for r in results)
    click.echo(f"\n{n}/{len(results)} reproduced")
    if write:
        rel = os.path.relpath(out, start=os.path.dirname(os.path.abspath(write)))
        text = markdown(results, plots_prefix=f"{Path(rel).as_posix()}/") + "\n"
        _atomic_write(Path(write), lambda f: f.write(text.encode()))


@main.command()
@click.option("--iterations", default=2000, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", default=0.5, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--seed", default=0, show_default=True)
def demo(iterations, lr, seed):
    """Train a small MLP on generated spirals and print its loss curve (no files needed)."""
    from .lab.demo import run

    run(iterations, lr, seed, echo=click.echo)


if __name__ == "__main__":
    main()
