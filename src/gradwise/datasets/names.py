"""Invented dinosaur names for the character-level language model (the course's "Dinosaurus
Island" task), made here from Greek and Latin roots so that the corpus is ours to ship.

A name is one to two stems and an ending, lower case, as in the course's dinos.txt
("tyrannosaurus", "velociraptor", "pachycephalosaurus"); the same seed gives the same list.
"""
from __future__ import annotations

import numpy as np

STEMS = (
    "acro", "aegy", "alio", "allo", "alti", "amargo", "ampelo", "anato", "ankylo", "apato",
    "archaeo", "argento", "atlanto", "austro", "baro", "bellu", "brachio", "bracto", "camara",
    "campto", "carcharo", "carno", "centro", "cerato", "chasmo", "coelo", "compso", "cory",
    "crypto", "dacento", "dicraeo", "diplo", "dromaeo", "drypto", "edmonto", "elaphro", "eoraptor",
    "eu", "gallimi", "giganto", "gorgo", "hadro", "hetero", "hypsilo", "iguano", "kentro",
    "lambeo", "lepto", "lurdo", "magno", "maia", "mamenchi", "masso", "megalo", "micro", "mono",
    "nano", "nodo", "ornitho", "oviro", "pachy", "panto", "parasauro", "pelecani",
    "plateo", "pro", "proto", "psittaco", "quaesito", "rhabdo", "rugo", "sauro", "scelido",
    "segno", "spino", "stego", "struthio", "styraco", "suchomi", "tarbo", "teno", "thero",
    "titano", "torvo", "tricera", "troo", "tyranno", "utah", "veloci", "xeno", "zalmoxo",
    "zuni", "cephalo", "dino", "hespero", "lyco", "ptero", "rhino", "sino", "tylo",
)
ENDINGS = (
    "saurus", "saurus", "saurus", "saurus", "raptor", "raptor", "don", "odon", "tops", "ceratops",
    "mimus", "venator", "titan", "suchus", "pteryx", "nychus", "rhinus", "lophus", "dromeus",
    "ceras", "pelta", "saura", "gnathus", "ichnus", "mimus", "cephale", "nykus", "rex",
)


def dinosaur_names(n: int = 1500, seed: int = 0) -> list[str]:
    """n distinct invented names, in a seeded random order."""
    rng = np.random.default_rng(seed)
    names: dict[str, None] = {}
    while len(names) < n:
        k = 1 + (rng.random() < 0.3)                   # a second stem now and then
        name = "".join(rng.choice(STEMS, size=k)) + rng.choice(ENDINGS)
        name = name.replace("oo", "o").replace("aa", "a")
        names.setdefault(name, None)
    return list(names)
