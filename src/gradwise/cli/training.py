"""`gradwise search` and `gradwise train`: the options parsed here, the work done by
gradwise.search.commands."""
from __future__ import annotations

import click


@click.command()
@click.argument("space", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--dataset", default=None,
              type=click.Choice(["moons", "circles", "spirals", "blobs", "flower", "mnist", "fashion_mnist"]),
              help="The data to tune on (over SPACE's 'dataset'; default moons).")
@click.option("--trials", default=20, show_default=True, type=click.IntRange(min=1),
              help="Trials per round, drawn at random (never a grid).")
@click.option("--rounds", default=1, show_default=True, type=click.IntRange(min=1),
              help="Coarse to fine: after each round, zoom the ranges around the best trials.")
@click.option("--top", default=5, show_default=True, type=click.IntRange(min=1),
              help="How many best trials the next round zooms around.")
@click.option("--metric", default="dev_loss", show_default=True,
              type=click.Choice(["dev_loss", "dev_error", "train_loss", "train_error"]))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--executor", default="process", show_default=True,
              type=click.Choice(["process", "ray", "serial"]),
              help="Where the trials run: a local process pool, Ray, or one after another here.")
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Pool size (default: one per CPU).")
@click.option("--ray-address", default=None,
              help="A Ray cluster to run on ('auto', 'ray://HOST:10001'); implies --executor ray.")
@click.option("--out", default="runs/search", show_default=True, type=click.Path(file_okay=False))
def search(space, dataset, trials, rounds, top, metric, seed, executor, workers, ray_address, out):
    """Random search of an MLP's hyperparameters ("caviar": many models in parallel).

    SPACE is a JSON file of the recipe's keys (see gradwise.search.recipe.DEFAULTS), e.g.
    {"lr": {"loguniform": [1e-4, 1]}, "beta1": {"one_minus_loguniform": [0.9, 0.999]},
    "hidden": {"randint": [8, 64]}, "activation": {"choice": ["relu", "tanh"]}, "epochs": 30};
    without it, lr, beta1 and hidden are searched. Writes OUT/trials.json, OUT/search.png
    (score vs each hyperparameter) and OUT/best.json, which `gradwise train` accepts."""
    from ..search.commands import DEFAULT_SPACE, SearchSettings, read_space, run_search

    settings = SearchSettings(dataset=dataset, trials=trials, rounds=rounds, top=top, seed=seed,
                              metric=metric, executor="ray" if ray_address else executor,
                              workers=workers, ray_address=ray_address, out=out)
    try:
        space = read_space(space) if space else dict(DEFAULT_SPACE)
        run_search(space, settings, echo=click.echo)
    except (ValueError, TypeError, ImportError, OSError) as e:
        raise click.ClickException(str(e)) from None


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", default="runs/train", show_default=True, type=click.Path(file_okay=False),
              help="Folder for model.npz (and health.png, or the checkpoints of --babysit).")
@click.option("--monitor", is_flag=True,
              help="Watch the training's health (gradients, updates, saturated/dead units) and warn.")
@click.option("--babysit", is_flag=True,
              help="Panda: checkpoint every epoch, roll back divergence with a smaller learning "
                   "rate; edit OUT/control.json to change the learning rate while it trains.")
@click.option("--human-error", default=None, type=click.FloatRange(0, 1),
              help="Human-level error (a fraction) for the bias/variance diagnosis.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def train(config, out, monitor, babysit, human_error, no_progress):
    """Train the model a CONFIG file describes on its dataset and save it (OUT/model.npz).

    CONFIG is JSON: the best.json of `gradwise search`, or a plain config such as
    {"dataset": "moons", "hidden": 32, "layers": 2, "optimizer": "adam", "lr": 0.01}
    (missing keys take gradwise.search.recipe.DEFAULTS). Prints the final losses and errors
    and the bias/variance diagnosis with the course's recommendations."""
    from ..search.commands import run_train

    if monitor and babysit:
        raise click.UsageError("--monitor and --babysit are separate ways to train; choose one")
    try:
        run_train(config, out=out, monitor=monitor, babysit=babysit, human_error=human_error,
                  verbose=0 if no_progress else 1, echo=click.echo)
    except (ValueError, TypeError, KeyError, OSError) as e:
        raise click.ClickException(str(e)) from None
