"""The one clock of the eTIMS package (queue ages, back-off, circuit breaker, KRA's date fields).

A seam for tests: a fake clock moves ten minutes of outage forward without waiting for them.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

NAIROBI = ZoneInfo("Africa/Nairobi")


def now() -> datetime:
    return timezone.now()


def kra_datetime(moment: datetime) -> str:
    """`YYYYMMDDHHmmss` in Nairobi time, as every eTIMS time field wants it."""
    return moment.astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")


def kra_date(moment: datetime) -> str:
    """`YYYYMMDD` in Nairobi time."""
    return moment.astimezone(NAIROBI).strftime("%Y%m%d")


def parse_kra_datetime(text) -> datetime | None:
    """KRA's reply times: `YYYYMMDDHHmmss`, or `YYYY-MM-DD HH:MM:SS[.f]` in some lists. Nairobi time."""
    if text in (None, ""):
        return None
    text = str(text).strip()
    for fmt in ("%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=NAIROBI)
        except ValueError:
            continue
    return None
