"""Human-readable dates and their ISO form, for translation with attention (the course,
Sequence Models, week 3: "3 May 1979", "tuesday 09 oct 1979", "5/3/79" -> "1979-05-03").

Dates are drawn from gradwise's generator (or one given) between 1950 and 2049, so that a
two-digit year names one century, and written by Babel's format_date in several formats
and locales, lower-cased. The numeric formats kept are those that name one date: en_US's
"5/3/79" is month first with a two-digit year, the day-first ones with slashes have four
("03/05/1979"), German's have dots ("03.05.79"), so no string reads two ways.
"""
from __future__ import annotations

import datetime

import numpy as np

from .. import backend

FORMATS = {
    "en_US": ("short", "medium", "long", "full", "d MMM y", "EEEE dd MMM y", "MMMM d y", "dd MMM, y"),
    "en_GB": ("short", "medium", "full", "EEE d MMM yy"),
    "fr_FR": ("short", "long", "full", "dd MMM y"),
    "de_DE": ("short", "medium", "long", "full"),
    "it_IT": ("medium", "long"),
}
"""Babel patterns per locale ("short" ... "full" are the locale's own)."""

FIRST, DAYS = datetime.date(1950, 1, 1), 36525        # 1950-01-01 to 2049-12-31


def human_dates(n: int, generator: np.random.Generator | None = None, formats=None):
    """n pairs (human-readable date, ISO date "yyyy-mm-dd"), each in a random locale and
    format of `formats` ({locale: patterns}, FORMATS by default)."""
    from babel.dates import format_date

    rng = backend.rng() if generator is None else generator
    formats = FORMATS if formats is None else formats
    choices = [(loc, f) for loc, fs in formats.items() for f in fs]
    days = rng.integers(0, DAYS, size=n)
    picks = rng.integers(0, len(choices), size=n)
    pairs = []
    for d, k in zip(days, picks):
        date = FIRST + datetime.timedelta(days=int(d))
        loc, fmt = choices[k]
        pairs.append((format_date(date, fmt, locale=loc).lower(), date.isoformat()))
    return pairs
