"""The units a figure may have, what each means, and how it behaves on a slide.

One list: the data file's schema, the label catalogs (one word pattern per unit and language),
number formatting, chart checks and the documentation (``docs/data-format.md``, tested against
:data:`UNITS`) all follow it.
"""

from __future__ import annotations

import typing
from typing import Literal

Unit = Literal[
    "USD", "KRW", "EUR", "JPY", "CNY", "GBP", "percent", "percentage_points", "people",
    "count", "multiple", "rank", "year", "score", "parameters", "gpu_hours", "usd_per_hour",
]
UNITS: tuple[str, ...] = typing.get_args(Unit)

#: what each unit means, for the documentation and error messages
MEANING: dict[str, str] = {
    "USD": "US dollars", "KRW": "Korean won", "EUR": "euros", "JPY": "Japanese yen",
    "CNY": "Chinese yuan", "GBP": "pounds sterling",
    "percent": "a share or rate in per cent (5.5 means 5.5%)",
    "percentage_points": "a difference between two percentages (7.6 means 7.6 points)",
    "people": "a number of people (users, staff, riders)",
    "count": "a number of things, without a unit word",
    "multiple": "a ratio written as 'times' (3.96 means 3.96x)",
    "rank": "a position in a ranking (2 means second)",
    "year": "a calendar year (2022)",
    "score": "a score or index, without a unit word",
    "parameters": "a model's parameter count",
    "gpu_hours": "GPU hours of compute",
    "usd_per_hour": "a price in US dollars per hour",
}

#: figures in these units are positions or dates, never quantities to compare in a chart
NOT_QUANTITIES = frozenset({"rank", "year"})
#: large whole figures in these units are written in words (557만 6,000 / 5.576 million)
WORDS_FOR_LARGE = frozenset(UNITS) - NOT_QUANTITIES - {"percent", "percentage_points",
                                                       "multiple", "score"}

Qualifier = Literal["about", "at_least", "more_than", "under", "at_most"]
QUALIFIERS: tuple[str, ...] = typing.get_args(Qualifier)

assert set(MEANING) == set(UNITS)
