"""The `gradwise` command line (click).

    gradwise lab list                       the experiments and what they reproduce
    gradwise lab run NAME [NAME...] [--quick] [--out DIR]
    gradwise lab run --all [--quick]
    gradwise lab report [--out DIR] [--write FILE]
    gradwise demo                           the autograd demo (an MLP on spirals)
"""
from __future__ import annotations

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
    """Reproduce the course's and the book's published results."""


@lab.command("list")
def lab_list():
    """List the experiments."""
    from .lab import REGISTRY

    width = max(len(n) for n in REGISTRY)
    for name, exp in REGISTRY.items():
        click.echo(f"{name:<{width}}  {exp.title}  [{exp.source}]")


@lab.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every experiment.")
@click.option("--quick", is_flag=True, help="A smaller run that checks the key numbers (as CI does).")
@click.option("--out", type=click.Path(file_okay=False), default=DEFAULT_OUT, show_default=True,
              help="Folder for the JSON results and PNG plots.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def lab_run(names, run_all, quick, out, no_progress):
    """Run experiments NAMES (or --all) and compare them with the published numbers."""
    from .lab import REGISTRY

    if run_all:
        names = tuple(REGISTRY)
    if not names:
        raise click.UsageError("name an experiment (see `gradwise lab list`) or pass --all")
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise click.UsageError(f"unknown experiment(s) {', '.join(unknown)}; see `gradwise lab list`")
    start, reproduced = time.perf_counter(), 0
    for name in names:
        click.echo(f"== {name}: {REGISTRY[name].title}")
        result = REGISTRY[name].run(Path(out), quick=quick, progress=not no_progress)
        click.echo(result.summary())
        reproduced += result.reproduced
    click.echo(f"{reproduced}/{len(names)} experiment(s) reproduced in {time.perf_counter() - start:.1f} s; "
               f"results in {out}/")
    sys.exit(0 if reproduced == len(names) else 1)


@lab.command("report")
@click.option("--out", type=click.Path(file_okay=False), default=DEFAULT_OUT, show_default=True,
              help="Folder the results were written to.")
@click.option("--write", type=click.Path(dir_okay=False), default=None,
              help="Also write the table to this Markdown file.")
def lab_report(out, write):
    """Print the Markdown table of results (experiment, reference, ours, reproduced, plots)."""
    from .lab import collect, markdown

    results = collect(Path(out))
    if not results:
        raise click.ClickException(f"no results in {out}/: run `gradwise lab run --all` first")
    table = markdown(results, plots_prefix=f"{out}/")
    click.echo(table)
    n = sum(r.reproduced for r in results)
    click.echo(f"\n{n}/{len(results)} reproduced")
    if write:
        Path(write).write_text(table + "\n")


@main.command()
@click.option("--iterations", default=2000, show_default=True)
@click.option("--lr", default=0.5, show_default=True)
@click.option("--seed", default=0, show_default=True)
def demo(iterations, lr, seed):
    """Train a small MLP on spirals with the autograd core and print its loss curve."""
    from .__main__ import main as demo_main

    demo_main(["--iterations", str(iterations), "--lr", str(lr), "--seed", str(seed)])


if __name__ == "__main__":
    main()
