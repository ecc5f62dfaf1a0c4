"""`gradwise detect`, `gradwise verify` and `gradwise style`: the options parsed here, the
work done by gradwise.vision."""
from __future__ import annotations

from pathlib import Path

import click

from .options import int_list, writable

DEFAULT_DETECTOR = "runs/detect/digits.npz"


@click.command()
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
    from ..vision.detection.digits import detect_file, train_digit_detector, write_sample

    if not (image or do_train or sample):
        raise click.UsageError("give an IMAGE to detect on, --train or --sample PNG")
    if image:
        out = out or str(Path(image).with_name(Path(image).stem + "-boxes.png"))
        writable(out, "-o")
    if do_train:
        writable(weights, "--weights")
    if sample:
        writable(sample, "--sample")
    try:
        if do_train:
            size = ({"n_train": 2000, "n_test": 200, "epochs": 4} if quick
                    else {"n_train": n_train, "epochs": epochs})
            train_digit_detector(weights, seed=seed, verbose=0 if no_progress else 1, echo=click.echo,
                                 **size)
        if sample:
            write_sample(sample, seed=seed, echo=click.echo)
        if image:
            detect_file(image, out, weights, score_threshold=score, iou_threshold=iou,
                        max_boxes=max_boxes, echo=click.echo)
    except (FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None


@click.command()
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
@click.option("--faces", nargs=2, type=click.Path(exists=True, dir_okay=False), default=None,
              metavar="A B", help="Instead: are the faces in photos A and B the same person? "
              "dlib's pretrained network read by gradwise (pip install 'gradwise[faces]').")
@click.option("--box", "boxes", multiple=True, metavar="L,T,R,B",
              help="With --faces: the face's box in A, then in B (default: the whole photo).")
def verify(dataset, train_classes, epochs, train_images, loss, mining, alpha, distance,
           embedding_dim, channels, dropout, augment, seed, out, save_model, no_progress, faces,
           boxes):
    """Face verification, one-shot: train a Siamese embedding with the triplet loss on some
    classes, then verify and recognise the unseen classes from one example each.

    Prints the verification accuracy (threshold chosen on a dev split), the ROC AUC and the
    one-shot recognition accuracy on the unseen classes, next to raw pixels. Fashion-MNIST's
    classes 0-4 are all garments; --train-classes 0,1,2,5,7 puts garments and footwear on
    both sides (numbers in the README, why in gradwise.vision.face.one_shot).

    With --faces A B: the distance between the two faces' descriptors from dlib's pretrained
    ResNet, and the verdict at dlib's threshold 0.6."""
    if faces:
        return _verify_faces(faces, boxes)
    if boxes:
        raise click.UsageError("--box goes with --faces")
    from ..datasets import DatasetIntegrityError
    from ..vision.face.one_shot import one_shot_demo, plot_roc, save_result

    classes = int_list(train_classes, "--train-classes")
    if len(set(classes)) < 2 or any(not 0 <= c <= 9 for c in classes) or len(set(classes)) > 9:
        raise click.BadParameter(f"need 2 to 9 distinct classes among 0-9, got {train_classes!r}",
                                 param_hint="--train-classes")
    widths = int_list(channels, "--channels")
    if not widths or min(widths) < 1:
        raise click.BadParameter(f"expected comma-separated positive ints, got {channels!r}",
                                 param_hint="--channels")
    writable(out, "--out", folder=True)
    if save_model:
        writable(save_model, "--save-model")
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
        from .. import save

        save(net.state_dict(), save_model)
        click.echo(f"embedding network saved to {save_model}")


def _verify_faces(paths, boxes):
    from ..vision.face.pretrained import verify_faces

    if len(boxes) not in (0, 2):
        raise click.BadParameter(f"give a box for each of the two photos, got {len(boxes)}", param_hint="--box")
    parsed = []
    for text in boxes:
        try:
            box = tuple(float(v) for v in text.split(","))
        except ValueError:
            box = ()
        if len(box) != 4:
            raise click.BadParameter(f"expected LEFT,TOP,RIGHT,BOTTOM pixels, got {text!r}", param_hint="--box")
        parsed.append(box)
    try:
        dist, same = verify_faces(*paths, boxes=parsed or (None, None))
    except (ModuleNotFoundError, FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    verdict = "the same person" if same else "different people"
    click.echo(f"distance {dist:.4f} (threshold 0.6): {verdict}")
    if not parsed:   # gradwise has no face detector: a wide photo gives a poorly aligned face
        click.echo("note: without --box each photo is taken as one face filling the frame; for a "
                   "photo with more around the face, give --box LEFT,TOP,RIGHT,BOTTOM for each", err=True)


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


@click.command()
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

    from ..io import atomic_write
    from ..vision.image_files import load_image, save_image
    from ..vision.style import (
        CONTENT_LAYER,
        STYLE_LAYERS,
        FeatureNet,
        StyleConfig,
        example_content,
        example_style,
        transfer_style,
    )

    if (content is None) != (style_image is None):
        raise click.UsageError("give both CONTENT and STYLE, or neither for the built-in example")
    if Path(output).suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise click.BadParameter(f"write a .png or .jpg, got '{Path(output).name}'", param_hint="-o")
    writable(output, "-o")
    if costs:
        writable(costs, "--costs")

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
        config = StyleConfig(iterations=iterations, alpha=alpha, beta=beta, tv_weight=tv_weight,
                             optimizer=optimizer, lr=lr, content_layer=content_layer,
                             style_layers=layers, init=init, seed=seed)
        result = transfer_style(C, S, config, net=net, progress=not no_progress)
        save_image(result.image, output)
    except (FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(result.summary())
    click.echo(f"{result.image.shape[1]}x{result.image.shape[0]} image written to {output}")
    if costs:
        text = json.dumps({"J": result.J, "J_content": result.J_content, "J_style": result.J_style,
                           "seconds": result.seconds})
        atomic_write(costs, lambda f: f.write(text.encode()))
