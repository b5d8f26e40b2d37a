"""Minimal valid non-disablement calendars for SRV 2.1 requests built by the harness.

No Secure clause in scope reads the calendar, but DUIS requires one in every
UpdatePrepayConfiguration. These are the smallest calendars the schema accepts:
non-disablement starts at midnight every day of the week (electricity), or on
one day profile used all week from 1 January 2020 (gas).
"""

from __future__ import annotations

from lxml import etree
from lxml.builder import ElementMaker

from s1sr.duis.namespaces import SR

E = ElementMaker(namespace=SR, nsmap={"sr": SR})
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def default_calendar(fuel: str) -> etree._Element:
    """The calendar element for ``fuel`` ("electricity" or "gas")."""
    if fuel == "electricity":
        return E.ElectricityNonDisablementCalendar(
            E.ElectricitySpecialDays(),
            E.ElectricityNonDisablementSchedule(
                E.NonDisablementScript("START"),
                E.SpecialDaysApplicability(),
                E.DaysOfWeekApplicability(*(E.DayOfWeekApplicability(E.DayOfWeekID(day)) for day in DAYS)),
                E.ScheduleDatesAndTime(E.SwitchTime("00:00:00Z"), E.StartDate("2020-01-01Z"), E.EndDate("2099-12-31Z")),
            ),
        )
    return E.GasNonDisablementCalendar(
        E.DayProfiles(
            E.GasNonDisablementDayProfile(
                E.TimeStartAction(E.StartTime("00:00:00Z"), E.NonDisablementAction("START")),
                E.GasDayName("1"),
            )
        ),
        E.WeekProfiles(
            E.WeekProfile(
                E.WeekName("1"),
                *(E.ReferencedDayName("1", index=str(i)) for i in range(1, 8)),
            )
        ),
        E.SeasonProfiles(
            E.Season(
                E.SeasonStartDate(
                    E.GasYearWithWildcards(E.SpecifiedYear("2020")),
                    E.GasMonthWithWildcards(E.SpecifiedMonth("1")),
                    E.GasDayOfMonthWithWildcards(E.SpecifiedDayOfMonth("1")),
                    E.GasDayOfWeekWithWildcards(E.NonSpecifiedDayOfWeek()),
                ),
                E.ReferencedWeekName("1"),
            )
        ),
        E.SpecialDays(),
    )
