"""Business-day calendars of the schemes that have one, as data (codesets/target2_closing_days.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Calendar:
    name: str
    first_year: int
    last_year: int
    closing_days: frozenset[date]

    def covers(self, day: date) -> bool:
        return self.first_year <= day.year <= self.last_year

    def is_business_day(self, day: date) -> bool:
        """Weekdays that are not closing days; ValueError outside the years the data covers."""
        if not self.covers(day):
            raise ValueError(f"the {self.name} calendar covers {self.first_year}-{self.last_year}, not {day.year}")
        return day.weekday() < 5 and day not in self.closing_days


@cache
def calendar(name: str) -> Calendar:
    if name != "TARGET2":
        raise KeyError(f"no calendar {name!r}")
    data = json.loads(files(__package__).joinpath("codesets", "target2_closing_days.json").read_text(encoding="utf-8"))
    days = frozenset(date.fromisoformat(day) for year in data["days"].values() for day in year)
    return Calendar("TARGET2", data["first_year"], data["last_year"], days)
