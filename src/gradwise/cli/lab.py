"""`gradwise lab list | run | report | recipe` and `gradwise demo`."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from .options import writable

DEFAULT_OUT = "runs/lab"


@click.group()
def lab():
    """Reproduce the course's and the book's published results.

    Each experiment trains on the public API, compares its numbers with the published
    ones, and writes OUT/NAME.json and OUT/NAME-*.png. Course datasets are read from
    $GRADWISE_DATA (see gradwise.datasets)."""


@lab.command("list")
def lab_list():
    """List the experiments: name, what it reproduces, its source, the data it needs."""
    from ..lab import REGISTRY

    width = max(len(n) for n in REGISTRY)
    for name, exp in REGISTRY.items():
        missing, unobtainable = exp.missing_data(), exp.unobtainable_data()
        state = (" (not found)" if unobtainable else " (not here: downloaded on first use)"
                 if missing else "")
        data = f"  needs {', '.join(exp.needs)}{state}" if exp.needs else ""
        click.echo(f"{name:<{width}}  {exp.title}  [{exp.source}]{data}")


@lab.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every experiment.")
@click.option("--available", is_flag=True,
              help="Skip (and list) the experiments whose dataset files are not on this machine "
                   "and cannot be downloaded (the course files; MNIST when its download fails): "
                   "they do not count as failures.")
@click.option("--quick", is_flag=True, help="A smaller run that checks the key numbers (as the tests do).")
@click.option("--out", type=click.Path(file_okay=False), default=DEFAULT_OUT, show_default=True,
              help="Folder for the JSON results and PNG plots.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def lab_run(names, run_all, available, quick, out, no_progress):
    """Run experiments NAMES (or --all) and compare them with the published numbers.

    An experiment whose dataset files are missing (and could not be downloaded) is listed
    once as "not run: data missing", and the files it needs are not asked for again.
    Exits with status 1 unless every experiment that ran reproduced its reference and, without
    --available, every one named could run."""
    from ..lab import REGISTRY

    names = _experiment_names(names, run_all, REGISTRY)
    writable(out, "--out", folder=True)
    start, outcomes = time.perf_counter(), {"reproduced": [], "failed": [], "no data": []}
    absent, why = set(), {}    # files that turned out missing; the loader's words, once per set
    for name in names:
        outcome = _run_one(REGISTRY[name], name, Path(out), quick, available, not no_progress,
                           absent, why)
        outcomes[outcome].append(name)
    for text in why.values():
        click.echo(text, err=True)
    reproduced, failed, no_data = outcomes["reproduced"], outcomes["failed"], outcomes["no data"]
    unmirrored = [n for n in no_data if REGISTRY[n].unobtainable_data()]
    if unmirrored:
        click.echo(f"{', '.join(unmirrored)}: no public mirror serves their files; put them in "
                   f"a folder (as course/NAME) and point $GRADWISE_DATA at it "
                   f"(see `gradwise lab list`)", err=True)
    ran = len(reproduced) + len(failed)
    line = (f"{len(reproduced)}/{ran} experiment(s) reproduced in {time.perf_counter() - start:.1f} s; "
            f"results in {out}/")
    if failed:
        line += f"; not reproduced: {', '.join(failed)}"
    if no_data:
        line += f"; not run: data missing: {', '.join(no_data)}"
    click.echo(line)
    sys.exit(1 if failed or (no_data and not available) else 0)


def _experiment_names(names, run_all: bool, registry) -> list:
    """The experiments to run, each once, in the order given; a usage error for none, both
    names and --all, or an unknown name."""
    if run_all and names:
        raise click.UsageError("give experiment names or --all, not both")
    if run_all:
        names = tuple(registry)
    if not names:
        raise click.UsageError("name an experiment (see `gradwise lab list`) or pass --all")
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise click.UsageError(f"unknown experiment(s) {', '.join(unknown)}; see `gradwise lab list`")
    return list(dict.fromkeys(names))


def _run_one(exp, name: str, out: Path, quick: bool, available: bool, progress: bool,
             absent: set, why: dict) -> str:
    """Run one experiment: 'reproduced', 'failed' or 'no data'. Files found missing are added
    to `absent` (not asked for again) and the loader's message to `why`."""
    from ..datasets import DatasetIntegrityError

    missing = [rel for rel in exp.needs if rel in absent] or (
        exp.unobtainable_data() if available else [])
    if missing:                # known missing: not tried (nor downloaded) again
        click.echo(f"== {name}: not run: data missing ({', '.join(missing)})")
        return "no data"
    click.echo(f"== {name}: {exp.title}" + (" (quick)" if quick else ""))
    try:
        result = exp.run(out, quick=quick, progress=progress)
    except (FileNotFoundError, DatasetIntegrityError) as e:
        missing = exp.missing_data() if isinstance(e, FileNotFoundError) else []
        if not missing:        # a damaged file, or another file missing: a failure
            click.echo(f"{name}: not run: {e}", err=True)
            return "failed"
        absent.update(missing)
        why.setdefault(tuple(missing), str(e))
        click.echo(f"{name}: not run: data missing ({', '.join(missing)})")
        return "no data"
    click.echo(result.summary())
    return "reproduced" if result.reproduced else "failed"


@lab.command("report")
@click.option("--out", type=click.Path(file_okay=False), default=DEFAULT_OUT, show_default=True,
              help="Folder the results were written to.")
@click.option("--write", type=click.Path(dir_okay=False), default=None,
              help="Also write the table to this Markdown file (plot links relative to it).")
@click.option("--brief", is_flag=True,
              help="One short row per experiment: its key numbers and how many checks held "
                   "(the table README.md shows).")
def lab_report(out, write, brief):
    """Print the Markdown table of results: experiment, reference, gradwise, reproduced, plots."""
    from ..io import atomic_write
    from ..lab import collect, markdown
    from ..lab.report import brief_markdown, not_run

    if write:
        writable(write, "--write")
    results = collect(Path(out))
    if not results:
        raise click.ClickException(f"no results in {out}/: run `gradwise lab run --all` first")

    def table(prefix: str) -> str:
        return brief_markdown(results) if brief else markdown(results, plots_prefix=prefix)

    click.echo(table(f"{out}/"))
    n = sum(r.reproduced for r in results)
    click.echo(f"\n{n}/{len(results)} reproduced")
    no_data, other = not_run(results)
    if no_data:
        click.echo(f"not run: data missing: {', '.join(no_data)}")
    if other:
        click.echo(f"not run: {', '.join(other)}")
    if write:
        rel = os.path.relpath(out, start=os.path.dirname(os.path.abspath(write)))
        text = table(f"{Path(rel).as_posix()}/") + "\n"
        atomic_write(write, lambda f: f.write(text.encode()), parents=True)


@lab.command("recipe")
@click.argument("name")
@click.option("--epochs", default=None, type=click.IntRange(min=1),
              help="Override the recipe's epochs (not transfer's).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--per-class", default=10, show_default=True, type=click.IntRange(min=1),
              help="transfer: labelled examples per digit 5-9.")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="A folder holding mnist/ (default: $GRADWISE_DATA, then the cache, then a download).")
@click.option("--json", "json_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the record to this file.")
def lab_recipe(name, epochs, seed, per_class, data_dir, json_path):
    """Train the CNN recipe NAME on MNIST and print its record as JSON.

    NAME is one of gradwise.lab.mnist.RECIPES (simple_convnet, lenet5, lenet5_shift,
    lenet5_relu: the model, optimizer, schedule and epochs of a reference result), or
    transfer: LeNet-5 trained on the digits 0-4, reused for 5-9 with PER_CLASS labels each."""
    from ..datasets import DatasetIntegrityError
    from ..lab import mnist

    if name != "transfer" and name not in mnist.RECIPES:
        raise click.BadParameter(f"no recipe {name!r}; choose from {', '.join(sorted(mnist.RECIPES))} "
                                 f"or transfer", param_hint="NAME")
    if name == "transfer" and epochs is not None:
        raise click.BadParameter("transfer has its own epochs", param_hint="--epochs")
    if json_path:
        writable(json_path, "--json")
    try:
        if name == "transfer":
            out = mnist.transfer_digits(per_class, seed=seed, data_dir=data_dir, log=click.echo)
        else:
            out = mnist.train_recipe(name, seed=seed, epochs=epochs, data_dir=data_dir,
                                     log=click.echo).to_dict()
    except (FileNotFoundError, DatasetIntegrityError) as e:
        raise click.ClickException(str(e)) from None
    text = json.dumps(out, indent=2)
    click.echo(text)
    if json_path:
        from ..io import atomic_write

        atomic_write(json_path, lambda f: f.write((text + "\n").encode()), parents=True)


@click.command()
@click.option("--iterations", default=2000, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", default=0.5, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--seed", default=0, show_default=True)
def demo(iterations, lr, seed):
    """Train a small MLP on generated spirals and print its loss curve (no files needed)."""
    from ..lab.demo import run

    run(iterations, lr, seed, echo=click.echo)
