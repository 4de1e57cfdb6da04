"""The deliveries a run covers, as one value from the command line or a sensor to dbt.

A `DeliveryWindow` is either every delivery (a full build: `DeliveryWindow.every()`) or
the deliveries `first` .. `last` (delivery names are days, `YYYY-MM-DD`: the day folder of
the event log, the day file of a database export). The value itself is what the code
passes around; it is written out in three places, by its own methods:

- a Dagster run's tags (`run_tags`, read back by `of_run`): the run is how a sensor, a
  schedule or the command line hands the window to the steps that land and transform;
- dbt's environment (`dbt_env`, read by macros/delivery_window.sql): environment
  variables, not --vars, because --vars are part of dbt's parse state and a new window
  each run would re-parse the whole project;
- JSON (`to_json`, read back by `from_json`): the deliveries the batch layer still owes
  (freshness.py, `dbt/pending_batch.json`).

Runs started from the Dagster UI name their days by Dagster's own partition tags (a
partition, or a range in a backfill); `of_run` reads those too, and a range over the whole
calendar is a full build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

# The run tags that carry a window (both, or neither for a full build).
DELIVERY_FROM_TAG = "dongne/delivery_from"
DELIVERY_TO_TAG = "dongne/delivery_to"
# The environment variables dbt reads the window from (macros/delivery_window.sql).
DBT_FROM_ENV, DBT_TO_ENV = "DONGNE_DELIVERY_FROM", "DONGNE_DELIVERY_TO"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Calendar = tuple[str, str]  # the first and last day of the partition calendar
# (Dagster's tag names are imported where they are used: the landing code, which uses this
# module, runs without Dagster too.)


@dataclass(frozen=True)
class DeliveryWindow:
    """Every delivery (`first` and `last` None), or the deliveries `first` .. `last`."""

    first: str | None = None
    last: str | None = None

    def __post_init__(self) -> None:
        if (self.first is None) != (self.last is None):
            raise ValueError("a delivery window names both its first and last day, or neither")
        for day in (self.first, self.last):
            if day is not None and not DAY.match(day):
                raise ValueError(f"{day!r} is not a delivery day (YYYY-MM-DD)")
        if self.first is not None and self.last is not None and self.first > self.last:
            raise ValueError(f"the window's first day {self.first} is after its last {self.last}")

    @classmethod
    def every(cls) -> DeliveryWindow:
        return cls()

    @classmethod
    def days(cls, first: str, last: str | None = None) -> DeliveryWindow:
        """The deliveries first .. last (one day when `last` is not given)."""
        return cls(first, last or first)

    @property
    def is_every(self) -> bool:
        return self.first is None

    def covers(self, delivery: str) -> bool:
        """Whether this window takes in the delivery named `delivery`."""
        if self.first is None or self.last is None:
            return True
        return self.first <= delivery <= self.last

    def widened(self, other: DeliveryWindow) -> DeliveryWindow:
        """The smallest window that covers both (every delivery absorbs any window)."""
        if self.first is None or self.last is None or other.first is None or other.last is None:
            return DeliveryWindow.every()
        return DeliveryWindow(min(self.first, other.first), max(self.last, other.last))

    def contains(self, other: DeliveryWindow) -> bool:
        """Whether every delivery `other` covers is in this window too."""
        if self.first is None or self.last is None:
            return True
        if other.first is None or other.last is None:
            return False
        return self.first <= other.first and other.last <= self.last

    def run_tags(self, calendar: Calendar | None = None) -> dict[str, str]:
        """The tags of a run over this window (none for every delivery). Inside the loaded
        partition `calendar` the run is also a range of Dagster partitions (a single-run
        backfill), so the UI shows those days as materialised."""
        from dagster._core.storage.tags import (
            ASSET_PARTITION_RANGE_END_TAG,
            ASSET_PARTITION_RANGE_START_TAG,
        )

        if self.first is None or self.last is None:
            return {}
        tags = {DELIVERY_FROM_TAG: self.first, DELIVERY_TO_TAG: self.last}
        if calendar is not None and calendar[0] <= self.first and self.last <= calendar[1]:
            tags[ASSET_PARTITION_RANGE_START_TAG] = self.first
            tags[ASSET_PARTITION_RANGE_END_TAG] = self.last
        return tags

    @classmethod
    def of_run(cls, tags: Mapping[str, str], calendar: Calendar | None) -> DeliveryWindow:
        """The window of a run, from its tags: the platform's own, else the partition or
        range the UI started it with (the whole `calendar` is every delivery), else every
        delivery."""
        from dagster._core.storage.tags import (
            ASSET_PARTITION_RANGE_END_TAG,
            ASSET_PARTITION_RANGE_START_TAG,
            PARTITION_NAME_TAG,
        )

        if DELIVERY_FROM_TAG in tags and DELIVERY_TO_TAG in tags:
            return cls(tags[DELIVERY_FROM_TAG], tags[DELIVERY_TO_TAG])
        if PARTITION_NAME_TAG in tags:
            first = last = tags[PARTITION_NAME_TAG]
        elif ASSET_PARTITION_RANGE_START_TAG in tags and ASSET_PARTITION_RANGE_END_TAG in tags:
            first, last = tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG]
        else:
            return cls.every()
        if calendar is not None and first <= calendar[0] and last >= calendar[1]:
            return cls.every()
        return cls(first, last)

    def dbt_env(self) -> dict[str, str]:
        """The environment that names this window to dbt; empty values for every delivery."""
        return {DBT_FROM_ENV: self.first or "", DBT_TO_ENV: self.last or ""}

    def to_json(self) -> str:
        return json.dumps(None if self.is_every else [self.first, self.last])

    @classmethod
    def from_json(cls, text: str) -> DeliveryWindow:
        value = json.loads(text)
        return cls.every() if value is None else cls(*value)

    def __str__(self) -> str:
        if self.first is None:
            return "every delivery"
        if self.first == self.last:
            return f"delivery {self.first}"
        return f"deliveries {self.first} .. {self.last}"


EVERY_DELIVERY = DeliveryWindow.every()  # a full build
