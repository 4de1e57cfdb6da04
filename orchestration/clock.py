"""Today's date in Korea: the one place the platform reads it.

Builds never depend on it (the partition calendar follows the deliveries); only the
freshness check, and the calendar before any data has arrived, ask what day it is.
`DONGNE_TODAY=YYYY-MM-DD` sets it (tests, and the benchmark's run with the clock moved).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")


def today_kst() -> date:
    """Today's KST date, or DONGNE_TODAY when it is set."""
    configured = os.environ.get("DONGNE_TODAY")
    if configured:
        return date.fromisoformat(configured)
    return datetime.now(KST).date()
