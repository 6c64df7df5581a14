"""The one source of the current time. Every operation takes `now()` once and passes it on, so
tests can freeze time (time-machine) and a request never sees two different "nows"."""

from __future__ import annotations

import datetime as dt

# Kutai Kartanegara is on WITA (UTC+8, no daylight saving): "today" for a form is the local date.
WITA = dt.timezone(dt.timedelta(hours=8), "WITA")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return now().astimezone(WITA).date()


def day_start(day: dt.date) -> dt.datetime:
    """The UTC instant a WITA day begins: stored times are UTC, the days people speak of are WITA."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=WITA).astimezone(dt.UTC)
