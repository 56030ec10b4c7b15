"""The working-day calendar against hand-counted dates and its own invariants."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbs.calendar.workdays import (
    CalendarError,
    DayCount,
    WorkCalendar,
    cuti_bersama,
    national_holidays,
)

WITH_CUTI = WorkCalendar()
WITHOUT_CUTI = WorkCalendar(cuti_bersama_libur=False)


def test_idul_fitri_2026_example_from_the_issue() -> None:
    # Tue 17 March 2026; 18 Mar cuti bersama Nyepi, 19 Nyepi, 20 cuti bersama Idul Fitri,
    # 21-22 Idul Fitri (weekend), 23-24 cuti bersama.
    assert WITH_CUTI.add(date(2026, 3, 17), 3) == date(2026, 3, 27)
    assert WITHOUT_CUTI.add(date(2026, 3, 17), 3) == date(2026, 3, 23)


def test_the_2026_calendar_is_the_published_one() -> None:
    assert date(2026, 3, 19) in national_holidays(2026)  # Nyepi
    assert date(2026, 3, 21) in national_holidays(2026)  # Idul Fitri 1447 H
    assert {
        date(2026, 3, 18),
        date(2026, 3, 20),
        date(2026, 3, 23),
        date(2026, 3, 24),
    } <= cuti_bersama(2026)
    assert not cuti_bersama(2026) & national_holidays(2026)


def test_calendar_days_count_every_day() -> None:
    assert WITH_CUTI.add(date(2026, 3, 17), 7, DayCount.CALENDAR) == date(2026, 3, 24)


def test_unit_closures_are_not_working_days() -> None:
    closed = WorkCalendar.of(closures=[date(2026, 3, 25)])
    assert closed.add(date(2026, 3, 17), 3) == date(2026, 3, 30)


def test_zero_days_is_the_start_and_bounds_are_refused() -> None:
    assert WITH_CUTI.add(date(2026, 3, 17), 0) == date(2026, 3, 17)
    with pytest.raises(CalendarError):
        WITH_CUTI.add(date(2026, 3, 17), -1)
    with pytest.raises(CalendarError):
        WITH_CUTI.add(date(2026, 3, 17), 10**6)
    with pytest.raises(CalendarError):
        WITH_CUTI.is_working_day(date(1990, 1, 2))


def test_a_pause_moves_the_due_date_by_the_days_spent_waiting() -> None:
    # 10 WD from Mon 2 Feb 2026; 5 WD used by Mon 9 Feb (pause), resumed Mon 23 Feb:
    # 5 WD left from 23 Feb -> Mon 2 Mar.
    start = date(2026, 2, 2)
    assert WITH_CUTI.add(start, 10) == date(2026, 2, 18)  # 16-17 Feb Imlek
    due = WITH_CUTI.due_with_pauses(start, 10, [(date(2026, 2, 9), date(2026, 2, 23))])
    assert due == date(2026, 3, 2)


def test_a_pause_after_the_deadline_changes_nothing() -> None:
    start = date(2026, 2, 2)
    due = WITH_CUTI.due_with_pauses(start, 3, [(date(2026, 2, 20), date(2026, 3, 2))])
    assert due == WITH_CUTI.add(start, 3)


def test_pauses_must_be_ordered_and_closed() -> None:
    with pytest.raises(CalendarError):
        WITH_CUTI.due_with_pauses(date(2026, 2, 2), 3, [(date(2026, 2, 1), date(2026, 2, 3))])
    with pytest.raises(CalendarError):
        WITH_CUTI.due_with_pauses(date(2026, 2, 2), 3, [(date(2026, 2, 5), date(2026, 2, 4))])


starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
budgets = st.integers(min_value=0, max_value=80)
policies = st.sampled_from([WITH_CUTI, WITHOUT_CUTI])


@given(starts, budgets, policies)
def test_the_due_date_spends_exactly_the_budget(
    start: date, days: int, calendar: WorkCalendar
) -> None:
    due = calendar.add(start, days)
    assert calendar.spent(start, due) == days
    if days:
        assert calendar.is_working_day(due)
        assert calendar.spent(start, due - timedelta(days=1)) == days - 1


@given(starts, budgets)
def test_counting_cuti_bersama_as_leave_never_shortens_a_deadline(start: date, days: int) -> None:
    assert WITH_CUTI.add(start, days) >= WITHOUT_CUTI.add(start, days)


@given(
    starts, budgets, st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=30)
)
def test_a_pause_never_brings_a_deadline_forward(
    start: date, days: int, after: int, length: int
) -> None:
    paused = start + timedelta(days=after)
    resumed = paused + timedelta(days=length)
    assert WITH_CUTI.due_with_pauses(start, days, [(paused, resumed)]) >= WITH_CUTI.add(start, days)
