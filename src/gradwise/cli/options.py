"""What the commands share: output paths made before the work, and comma-separated lists."""
from __future__ import annotations

import click


def writable(path, option: str, folder: bool = False):
    """Create the output `path` (a folder, or a file's folder) before any work, so a bad
    path fails in a second rather than after the training; a usage error naming `option`."""
    from ..io import prepare_output

    try:
        return prepare_output(path, folder=folder)
    except OSError as e:
        raise click.BadParameter(str(e), param_hint=option) from None


def int_list(text: str, hint: str) -> list[int]:
    """'0,1,2' -> [0, 1, 2]; anything else a clear error naming the option."""
    try:
        return [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}",
                                 param_hint=hint) from None
