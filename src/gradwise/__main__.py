"""`python -m gradwise`: the `gradwise` command line (see the package gradwise.cli), e.g.

    python -m gradwise lab list
    python -m gradwise lab run planar
    python -m gradwise demo
"""
from .cli import main

if __name__ == "__main__":
    main(prog_name="gradwise")
