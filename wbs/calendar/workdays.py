"""Working days on the Indonesian calendar, counted the way the regulations count them.

A deadline of N working days (hari kerja, WD) from a start date falls on the N-th working
day after that date: Monday to Friday, less national holidays (libur nasional), less
cuti bersama unless a unit counts them as working days, less the unit's own closures.
Calendar-day deadlines (hari kalender) count every day. A timer that pauses (waiting for
the reporter) does not spend its budget while paused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays

# The holidays package knows Indonesian dates from 2004; estimates far outside are refused.
FIRST_YEAR, LAST_YEAR = 2004, 2100
# A bound on any one deadline: no regulation counts more than a few hundred days.
MAX_DAYS = 3660


class DayCount(StrEnum):
    """How a deadline counts: hari kerja (working days) or hari kalender."""

    WORKING = "working"
    CALENDAR = "calendar"


class CalendarError(ValueError):
    """A date or count outside what the calendar answers."""


@lru_cache(maxsize=256)
def _year(year: int, category: str) -> frozenset[date]:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(f"year {year} is outside {FIRST_YEAR}..{LAST_YEAR}")
    found = holidays.country_holidays("ID", years=year, categories=(category,))
    return frozenset(found.keys())


def national_holidays(year: int) -> frozenset[date]:
    """Libur nasional of one year (category PUBLIC)."""
    return _year(year, holidays.PUBLIC)


def cuti_bersama(year: int) -> frozenset[date]:
    """Cuti bersama of one year (category GOVERNMENT), less days that are also holidays."""
    return _year(year, holidays.GOVERNMENT) - national_holidays(year)


def holiday_names(year: int, *, lang: str = "id") -> dict[date, str]:
    """Names of the year's holidays and cuti bersama, for pages and the CLI."""
    found = holidays.country_holidays(
        "ID",
        years=year,
        categories=(holidays.PUBLIC, holidays.GOVERNMENT),
        language="id" if lang == "id" else "en_US",
    )
    return {day: str(name) for day, name in sorted(found.items())}


@dataclass(frozen=True)
class WorkCalendar:
    """One unit's working days: the national calendar plus the unit's policy."""

    cuti_bersama_libur: bool = True
    closures: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, cuti_bersama_libur: bool = True, closures: Iterable[date] = ()) -> WorkCalendar:
        return cls(cuti_bersama_libur=cuti_bersama_libur, closures=frozenset(closures))

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.closures:
            return False
        if day in national_holidays(day.year):
            return False
        return not (self.cuti_bersama_libur and day in cuti_bersama(day.year))

    def add(self, start: date, days: int, count: DayCount = DayCount.WORKING) -> date:
        """The day on which a deadline of `days` counted from `start` falls."""
        if not 0 <= days <= MAX_DAYS:
            raise CalendarError(f"days must be within 0..{MAX_DAYS}, not {days}")
        if count is DayCount.CALENDAR:
            return start + timedelta(days=days)
        day, left = start, days
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def spent(self, start: date, end: date, count: DayCount = DayCount.WORKING) -> int:
        """Days counted in (start, end]: how much of a budget has been used by `end`."""
        if end <= start:
            return 0
        if (end - start).days > MAX_DAYS * 2:
            raise CalendarError("span too long")
        if count is DayCount.CALENDAR:
            return (end - start).days
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=offset))
        )

    def due_with_pauses(
        self,
        start: date,
        days: int,
        pauses: Sequence[tuple[date, date]],
        count: DayCount = DayCount.WORKING,
    ) -> date:
        """The due date of a timer that was paused over the given (paused, resumed) spans.

        Days spent while paused do not count: the budget left when a pause begins is
        counted again from the day the timer resumes.
        """
        left, cursor = days, start
        for paused, resumed in sorted(pauses):
            if paused < cursor or resumed < paused:
                raise CalendarError("pauses must be ordered, after the start, and closed")
            used = self.spent(cursor, paused, count)
            if used >= left:
                break
            left -= used
            cursor = resumed
        return self.add(cursor, left, count)
