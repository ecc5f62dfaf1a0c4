"""The `gradwise` command line (click); `python -m gradwise` is the same command.

    gradwise lab list                         the experiments, their sources, the data they need
    gradwise lab run NAME [NAME...] [--quick] [--out DIR]
    gradwise lab run --all [--quick] [--available]
    gradwise lab report [--out DIR] [--write FILE] [--brief]
    gradwise lab recipe NAME [--seed 0] [--epochs N] [--data-dir DIR] [--json FILE]
                                              a CNN recipe on MNIST (gradwise.lab.mnist)
    gradwise demo                             a small MLP on generated spirals
    gradwise search [SPACE.json] [--dataset moons] [--trials 20] [--rounds 1] [--out DIR]
    gradwise train CONFIG.json [--monitor | --babysit] [--out DIR]
    gradwise detect --train | --sample CANVAS.png | IMAGE [-o OUT.png]   digits found by a YOLO
    gradwise verify [--dataset mnist] [--out DIR]     one-shot verification of unseen classes
    gradwise style [CONTENT STYLE] -o OUT.png         neural style transfer

Each command parses its options, makes the paths it writes to, and calls the library:
lab.py the lab's, training.py the search's, vision.py gradwise.vision's.
"""
from __future__ import annotations

import click

from . import lab, training, vision

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradwise")
def main():
    """gradwise: deep learning from first principles on NumPy, and a lab that reproduces
    the classic results."""


for command in (lab.lab, lab.demo, training.search, training.train, vision.detect, vision.verify,
                vision.style):
    main.add_command(command)
