"""The `gradwise` command line (click); `python -m gradwise` is the same command.

    gradwise lab list                         the experiments, their sources, the data they need
    gradwise lab run NAME [NAME...] [--quick] [--out DIR]
    gradwise lab run --all [--quick] [--available]
    gradwise lab report [--out DIR] [--write FILE] [--brief]
    gradwise demo                             a small MLP on generated spirals
    gradwise search [SPACE.json] [--dataset moons] [--trials 20] [--rounds 1] [--out DIR]
    gradwise train CONFIG.json [--monitor | --babysit] [--out DIR]
    gradwise detect --train | --sample CANVAS.png | IMAGE [-o OUT.png]   digits found by a YOLO
    gradwise verify [--dataset mnist] [--out DIR]     one-shot verification of unseen classes
    gradwise style [CONTENT STYLE] -o OUT.png         neural style transfer
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

DEFAULT_OUT = "runs/lab"


def _writable(path, option: str, folder: bool = False):
    """Create the output `path` (a folder, or a file's folder) before any work, so a bad
    path fails in a second rather than after the training; a usage error naming `option`."""
    from .io import prepare_output

    try:
        return prepare_output(path, folder=folder)
    except OSError as e:
        raise click.BadParameter(str(e), param_hint=option) from None


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
    _writable(out, "--out", folder=True)
    start, reproduced, failed, no_data = time.perf_counter(), [], [], []
    absent, why = set(), {}    # files that turned out missing; the loader's words, once per set
    for name in names:
        exp = REGISTRY[name]
        missing = [rel for rel in exp.needs if rel in absent] or (
            exp.unobtainable_data() if available else [])
        if missing:                # known missing: not tried (nor downloaded) again
            click.echo(f"== {name}: not run: data missing ({', '.join(missing)})")
            no_data.append(name)
            continue
        click.echo(f"== {name}: {exp.title}" + (" (quick)" if quick else ""))
        try:
            result = exp.run(Path(out), quick=quick, progress=not no_progress)
        except (FileNotFoundError, DatasetIntegrityError) as e:
            missing = exp.missing_data() if isinstance(e, FileNotFoundError) else []
            if not missing:        # a damaged file, or another file missing: a failure
                click.echo(f"{name}: not run: {e}", err=True)
                failed.append(name)
                continue
            absent.update(missing)
            why.setdefault(tuple(missing), str(e))
            click.echo(f"{name}: not run: data missing ({', '.join(missing)})")
            no_data.append(name)
            continue
        click.echo(result.summary())
        (reproduced if result.reproduced else failed).append(name)
    for text in why.values():
        click.echo(text, err=True)
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
    from .io import atomic_write
    from .lab import collect, markdown
    from .lab.report import brief_markdown, not_run

    if write:
        _writable(write, "--write")
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


@main.command()
@click.option("--iterations", default=2000, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", default=0.5, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--seed", default=0, show_default=True)
def demo(iterations, lr, seed):
    """Train a small MLP on generated spirals and print its loss curve (no files needed)."""
    from .lab.demo import run

    run(iterations, lr, seed, echo=click.echo)


@main.command()
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
    from .search.commands import DEFAULT_SPACE, read_space, run_search

    try:
        space = read_space(space) if space else dict(DEFAULT_SPACE)
        run_search(space, dataset, trials, rounds, top, seed, metric,
                   "ray" if ray_address else executor, workers, ray_address, out, echo=click.echo)
    except (ValueError, TypeError, ImportError, OSError) as e:
        raise click.ClickException(str(e)) from None


@main.command()
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
    from .search.commands import run_train

    if monitor and babysit:
        raise click.UsageError("--monitor and --babysit are separate ways to train; choose one")
    try:
        run_train(config, out, monitor, babysit, human_error, verbose=0 if no_progress else 1,
                  echo=click.echo)
    except (ValueError, TypeError, KeyError, OSError) as e:
        raise click.ClickException(str(e)) from None


DEFAULT_DETECTOR = "runs/detect/digits.npz"


@main.command()
@click.argument("image", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--out", default=None, type=click.Path(dir_okay=False),
              help="The PNG to draw the boxes on (default: IMAGE's name + '-boxes.png').")
@click.option("--weights", default=DEFAULT_DETECTOR, show_default=True, type=click.Path(dir_okay=False),
              help="The detector to use, or to write with --train.")
@click.option("--score", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Keep boxes whose score pc * p(class) is at least this.")
@click.option("--iou", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Non-max suppression: drop a box that overlaps a better one of its class by more.")
@click.option("--max-boxes", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--train", "do_train", is_flag=True,
              help="Train a detector on MNIST canvases, print its mAP@0.5 on held-out ones, save it.")
@click.option("--epochs", default=12, show_default=True, type=click.IntRange(min=1), help="With --train.")
@click.option("--n-train", default=8000, show_default=True, type=click.IntRange(min=1),
              help="With --train: new training canvases per epoch.")
@click.option("--quick", is_flag=True, help="With --train: 4 epochs of 2000 canvases (a try-out; low mAP).")
@click.option("--sample", default=None, type=click.Path(dir_okay=False),
              help="Write a canvas of unseen MNIST digits to this PNG and print its true boxes.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def detect(image, out, weights, score, iou, max_boxes, do_train, epochs, n_train, quick, sample,
           seed, no_progress):
    """Find digits in IMAGE with a YOLO trained on MNIST canvases; draw the boxes on a PNG.

    From scratch, in three commands:

    \b
        gradwise detect --train                   # a few minutes; prints mAP@0.5, saves --weights
        gradwise detect --sample canvas.png       # a canvas of digits it never saw
        gradwise detect canvas.png -o boxes.png   # the boxes it finds, drawn
    """
    from .vision.digits import detect_file, train_digit_detector, write_sample

    if not (image or do_train or sample):
        raise click.UsageError("give an IMAGE to detect on, --train or --sample PNG")
    if image:
        out = out or str(Path(image).with_name(Path(image).stem + "-boxes.png"))
        _writable(out, "-o")
    if do_train:
        _writable(weights, "--weights")
    if sample:
        _writable(sample, "--sample")
    try:
        if do_train:
            size = ({"n_train": 2000, "n_test": 200, "epochs": 4} if quick
                    else {"n_train": n_train, "epochs": epochs})
            train_digit_detector(weights, seed=seed, verbose=0 if no_progress else 1, echo=click.echo,
                                 **size)
        if sample:
            write_sample(sample, seed=seed, echo=click.echo)
        if image:
            detect_file(image, out, weights, score, iou, max_boxes, echo=click.echo)
    except (FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None


@main.command()
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), default="mnist",
              show_default=True)
@click.option("--train-classes", default="0,1,2,3,4", show_default=True,
              help="Classes the embedding trains on; the others are the unseen identities.")
@click.option("--epochs", default=6, show_default=True, type=click.IntRange(min=1))
@click.option("--train-images", default=12000, show_default=True, type=click.IntRange(min=0),
              help="Training images drawn from those classes (0: all of them).")
@click.option("--loss", type=click.Choice(["triplet", "softmax"]), default="triplet",
              show_default=True, help="softmax: the classifier baseline, same network.")
@click.option("--mining", type=click.Choice(["semi_hard", "batch_hard"]), default="semi_hard",
              show_default=True)
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(min=0),
              help="The triplet loss margin (embeddings on the unit sphere).")
@click.option("--distance", type=click.Choice(["squared", "plain"]), default="squared",
              show_default=True, help="Distances in the triplet loss (plain suits batch_hard).")
@click.option("--embedding-dim", default=0, show_default=True, type=click.IntRange(min=0),
              help="Project the features to this many numbers (0: no projection).")
@click.option("--channels", default="8,16,32", show_default=True,
              help="Channels of the conv blocks, one block each (8,16: a shallower, "
                   "784-number embedding).")
@click.option("--dropout", default=0.0, show_default=True,
              type=click.FloatRange(0, 1, max_open=True),
              help="Dropout on the embedding's features before the normalization (training).")
@click.option("--augment/--no-augment", default=True, show_default=True,
              help="Shift and rotate the training images at random.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="runs/verify", show_default=True,
              help="Folder for verify-DATASET.json and verify-DATASET-roc.png.")
@click.option("--save-model", type=click.Path(dir_okay=False), default=None,
              help="Also save the trained embedding network's state dict (gradwise.save, .npz).")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def verify(dataset, train_classes, epochs, train_images, loss, mining, alpha, distance,
           embedding_dim, channels, dropout, augment, seed, out, save_model, no_progress):
    """Face verification, one-shot: train a Siamese embedding with the triplet loss on some
    classes, then verify and recognise the unseen classes from one example each.

    Prints the verification accuracy (threshold chosen on a dev split), the ROC AUC and the
    one-shot recognition accuracy on the unseen classes, next to raw pixels. Fashion-MNIST's
    classes 0-4 are all garments; --train-classes 0,1,2,5,7 puts garments and footwear on
    both sides (numbers and why in gradwise.vision.one_shot)."""
    from .datasets import DatasetIntegrityError
    from .vision.one_shot import one_shot_demo, plot_roc, save_result

    classes = _int_list(train_classes, "--train-classes")
    if len(set(classes)) < 2 or any(not 0 <= c <= 9 for c in classes) or len(set(classes)) > 9:
        raise click.BadParameter(f"need 2 to 9 distinct classes among 0-9, got {train_classes!r}",
                                 param_hint="--train-classes")
    widths = _int_list(channels, "--channels")
    if not widths or min(widths) < 1:
        raise click.BadParameter(f"expected comma-separated positive ints, got {channels!r}",
                                 param_hint="--channels")
    _writable(out, "--out", folder=True)
    if save_model:
        _writable(save_model, "--save-model")
    try:
        result, net = one_shot_demo(dataset, classes, epochs=epochs,
                                    train_images=train_images or None, loss=loss, mining=mining,
                                    alpha=alpha, squared=distance == "squared",
                                    embedding_dim=embedding_dim or None, channels=widths,
                                    dropout=dropout, augment=augment, seed=seed,
                                    verbose=0 if no_progress else 1)
    except (FileNotFoundError, DatasetIntegrityError, ValueError) as e:   # e.g. too many blocks
        raise click.ClickException(str(e)) from None
    click.echo(result.summary())
    js = save_result(result, Path(out) / f"verify-{dataset}.json")
    png = plot_roc(result, Path(out) / f"verify-{dataset}-roc.png")
    click.echo(f"results in {js}, ROC in {png}")
    if save_model:
        from . import save

        save(net.state_dict(), save_model)
        click.echo(f"embedding network saved to {save_model}")


def _int_list(text: str, hint: str) -> list[int]:
    """'0,1,2' -> [0, 1, 2]; anything else a clear error naming the option."""
    try:
        return [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}",
                                 param_hint=hint) from None


def _style_layers(text: str):
    pairs = []
    for item in text.split(","):
        name, _, weight = item.partition("=")
        try:
            pairs.append((name.strip(), float(weight)))
        except ValueError:
            raise click.BadParameter(f"expected NAME=WEIGHT pairs separated by commas, got {item!r}",
                                     param_hint="--style-layers") from None
    return pairs


@main.command()
@click.argument("content", required=False, type=click.Path(exists=True, dir_okay=False))
@click.argument("style_image", metavar="STYLE", required=False,
                type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The generated image (.png or .jpg).")
@click.option("--size", default=128, show_default=True, type=click.IntRange(min=8),
              help="The longer side of the output in pixels; the content image is scaled to it, "
                   "the style image cropped and scaled to the same size.")
@click.option("--iterations", default=200, show_default=True, type=click.IntRange(min=1))
@click.option("--alpha", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Weight of the content cost.")
@click.option("--beta", default=400.0, show_default=True, type=click.FloatRange(min=0),
              help="Weight of the style cost (the course's 40 suits a trained VGG-19; on this "
                   "random network it leaves a faint style).")
@click.option("--tv-weight", default=0.01, show_default=True, type=click.FloatRange(min=0),
              help="Weight of the total variation cost against pixel noise (0: the course's cost).")
@click.option("--optimizer", type=click.Choice(["lbfgs", "adam"]), default="lbfgs",
              show_default=True)
@click.option("--lr", default=0.02, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Adam's learning rate on pixel values in [0, 1].")
@click.option("--init", type=click.Choice(["content", "noise"]), default="content",
              show_default=True, help="Start from the content image plus noise, or from noise.")
@click.option("--content-layer", default=None, help="Layer of the content cost [conv3_2].")
@click.option("--style-layers", default=None,
              help="NAME=WEIGHT pairs, e.g. conv1_1=0.5,conv2_1=0.5 "
                   "[conv1_1, conv2_1, conv3_1, conv4_1, 0.25 each].")
@click.option("--seed", default=0, show_default=True)
@click.option("--costs", type=click.Path(dir_okay=False), default=None,
              help="Also write the costs of every iteration to this JSON file.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def style(content, style_image, output, size, iterations, alpha, beta, tv_weight, optimizer, lr,
          init, content_layer, style_layers, seed, costs, no_progress):
    """Neural style transfer: paint the CONTENT image in the style of the STYLE image.

    Minimizes alpha J_content + beta J_style (+ tv_weight J_tv) over the pixels, with
    gradients through a VGG-style network with fixed random weights (see
    gradwise.vision.style). Without CONTENT and STYLE it paints the built-in example, a
    house in the style of a mosaic, and writes those two inputs beside the output too
    (OUT-content.png, OUT-style.png)."""
    import json

    from .io import atomic_write
    from .vision.image_files import load_image, save_image
    from .vision.style import (CONTENT_LAYER, STYLE_LAYERS, FeatureNet, example_content,
                               example_style, transfer_style)

    if (content is None) != (style_image is None):
        raise click.UsageError("give both CONTENT and STYLE, or neither for the built-in example")
    if Path(output).suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise click.BadParameter(f"write a .png or .jpg, got '{Path(output).name}'", param_hint="-o")
    _writable(output, "-o")
    if costs:
        _writable(costs, "--costs")

    net = FeatureNet()
    layers = _style_layers(style_layers) if style_layers else list(STYLE_LAYERS)
    content_layer = content_layer or CONTENT_LAYER
    for name, hint in [(content_layer, "--content-layer")] + [(n, "--style-layers") for n, _ in layers]:
        if name not in net.layer_names:
            raise click.BadParameter(f"no layer {name!r}; the layers are {', '.join(net.layer_names)}",
                                     param_hint=hint)
    try:
        if content is None:
            C, S = example_content(size), example_style(size)
            stem = Path(output).with_suffix("")
            for image, part in ((C, "content"), (S, "style")):
                save_image(image, f"{stem}-{part}.png")
        else:
            C = load_image(content, size)
            S = load_image(style_image, C.shape[:2])
        result = transfer_style(C, S, iterations, alpha, beta, optimizer, lr, content_layer, layers,
                                init, net, seed, progress=not no_progress, tv_weight=tv_weight)
        save_image(result.image, output)
    except (FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(result.summary())
    click.echo(f"{result.image.shape[1]}x{result.image.shape[0]} image written to {output}")
    if costs:
        text = json.dumps({"J": result.J, "J_content": result.J_content, "J_style": result.J_style,
                           "seconds": result.seconds})
        atomic_write(costs, lambda f: f.write(text.encode()))


if __name__ == "__main__":
    main()
