"""What each raw source looks like: its columns, key, types and timestamp formats.

These are the delivery formats of the raw-source contract; the readers and rules of the
other landing modules, the sample generator and the tests all take them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LINE_BYTES = 16 * 1024 * 1024  # longer lines and records are quarantined as line_too_long

EVENT_REQUIRED_FIELDS = ("event_id", "event_name", "device_id", "occurred_at", "received_at")
# Every top-level field the lake keeps, in the order the reader extracts them.
EVENT_FIELDS = (*EVENT_REQUIRED_FIELDS, "user_id", "platform", "app_version", "properties")

# Every reason a raw row can be quarantined for, in plain words: the landing writes only
# these, docs/sources.md explains each, and tests/test_bad_input.py delivers each one.
QUARANTINE_REASONS = {
    # Any file
    "unreadable_file": "the file cannot be read at all (e.g. a truncated gzip file): it is "
    "quarantined as one row naming the file",
    "invalid_utf8": "the line or row holds bytes that are not UTF-8",
    "line_too_long": "the line or record is longer than 16 MiB",
    # App events
    "empty_line": "an event line that is empty or only whitespace, or an empty line between "
    "the records of a CSV file",
    "not_json": "an event line that is not JSON",
    "not_a_json_object": "an event line that is JSON but not an object (an array, a number)",
    **{
        f"missing_{name}": f"the event's `{name}` is missing, empty or null"
        for name in EVENT_REQUIRED_FIELDS
    },
    "unparseable_occurred_at": "`occurred_at` does not parse as ISO-8601 with a UTC offset",
    "unparseable_received_at": "`received_at` does not parse as ISO-8601 with a UTC offset",
    "user_id_not_integer": (
        "`user_id` is present but not an integer (a string, a fraction) or outside the"
        " signed 64-bit range"
    ),
    # CSV exports and sheets
    "missing_columns": "the file lacks a required column: rejected whole, every row kept",
    "too_many_fields": "a CSV record with more fields than the header",
    "too_few_fields": "a CSV record with fewer fields than the header",
    "malformed_csv_row": "a CSV record the RFC 4180 reader cannot read (e.g. a stray quote)",
    "missing_primary_key": "the row's primary key is missing or empty",
    "unparseable_number": "an integer column holds something that is not an integer",
    "unparseable_timestamp": "a timestamp column holds something that is not a timestamp "
    "in the source's format",
}

# ISO-8601 with a mandatory UTC offset (Z, +09:00, +0900 or +09).
ISO_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)$"
# Database and reference timestamps are `YYYY-MM-DD HH:MM:SS` in KST.
DB_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")
# Reference sheets are kept by hand: a bare date means midnight KST.
REFERENCE_TIMESTAMP_FORMATS = (*DB_TIMESTAMP_FORMATS, "%Y-%m-%d %H:%M", "%Y-%m-%d")
INTEGER_TEXT = r"^\s*[+-]?\d+\s*$"


@dataclass(frozen=True)
class TableSpec:
    """How one CSV source is validated and typed."""

    source: str  # the lake's name for it: "users", "regions", ...
    folder: str  # "db" or "reference"
    columns: tuple[str, ...]
    primary_key: str | None
    integer_columns: tuple[str, ...] = ()
    timestamp_columns: tuple[str, ...] = ()
    timestamp_formats: tuple[str, ...] = DB_TIMESTAMP_FORMATS

    @property
    def raw_glob(self) -> str:
        """Where its files are, relative to the raw directory."""
        if self.folder == "db":
            return f"db/{self.source}/*.csv*"
        return f"reference/{self.source}.csv"

    @property
    def partitioned(self) -> bool:
        """A database export arrives as day files (deliveries); a reference sheet is whole."""
        return self.folder == "db"


DB_TABLES: dict[str, TableSpec] = {
    spec.source: spec
    for spec in [
        TableSpec(
            "users",
            "db",
            (
                "user_id",
                "nickname",
                "email",
                "phone",
                "region_id",
                "signup_at",
                "status",
                "updated_at",
            ),
            "user_id",
            ("user_id", "region_id"),
            ("signup_at", "updated_at"),
        ),
        TableSpec(
            "listings",
            "db",
            (
                "listing_id",
                "seller_id",
                "category_id",
                "region_id",
                "title",
                "description",
                "price_krw",
                "status",
                "created_at",
                "updated_at",
            ),
            "listing_id",
            ("listing_id", "seller_id", "category_id", "region_id", "price_krw"),
            ("created_at", "updated_at"),
        ),
        TableSpec(
            "trades",
            "db",
            (
                "trade_id",
                "listing_id",
                "buyer_id",
                "seller_id",
                "price_krw",
                "status",
                "completed_at",
                "updated_at",
            ),
            "trade_id",
            ("trade_id", "listing_id", "buyer_id", "seller_id", "price_krw"),
            ("completed_at", "updated_at"),
        ),
        TableSpec(
            "posts",
            "db",
            (
                "post_id",
                "author_id",
                "region_id",
                "topic",
                "body",
                "status",
                "created_at",
                "updated_at",
            ),
            "post_id",
            ("post_id", "author_id", "region_id"),
            ("created_at", "updated_at"),
        ),
        TableSpec(
            "moderation_labels",
            "db",
            ("label_id", "target_type", "target_id", "label", "source", "labeled_at"),
            "label_id",
            ("label_id", "target_id"),
            ("labeled_at",),
        ),
        TableSpec(
            "experiment_assignments",
            "db",
            ("experiment_id", "user_id", "variant", "assigned_at"),
            None,
            ("user_id",),
            ("assigned_at",),
        ),
    ]
}

REFERENCE_TABLES: dict[str, TableSpec] = {
    spec.source: spec
    for spec in [
        TableSpec(
            "regions",
            "reference",
            ("region_id", "city", "district", "neighborhood"),
            "region_id",
            ("region_id",),
        ),
        TableSpec(
            "categories", "reference", ("category_id", "name"), "category_id", ("category_id",)
        ),
        TableSpec(
            "experiments",
            "reference",
            (
                "experiment_id",
                "name",
                "control_variant",
                "variants",
                "started_at",
                "ended_at",
                "primary_metric",
            ),
            "experiment_id",
            (),
            ("started_at", "ended_at"),
            REFERENCE_TIMESTAMP_FORMATS,
        ),
        TableSpec(
            "incidents",
            "reference",
            ("incident_id", "started_at", "ended_at", "description"),
            "incident_id",
            (),
            ("started_at", "ended_at"),
            REFERENCE_TIMESTAMP_FORMATS,
        ),
    ]
}

ALL_TABLES: dict[str, TableSpec] = {**DB_TABLES, **REFERENCE_TABLES}
# Sources that arrive as dated deliveries: Dagster's daily partitions.
PARTITIONED_SOURCES: tuple[str, ...] = ("events", *DB_TABLES)
