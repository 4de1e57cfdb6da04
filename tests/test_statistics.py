"""The experiment mart's p-values are SQL (dbt_project/macros/statistics.sql), the same
expression on every engine. Their precision is checked in every build by the data test
assert_p_values_match_scipy, against the reference values of
dbt_project/seeds/p_value_reference.csv; this module makes sure those reference values are
scipy's, not typed by hand: `python -m tests.test_statistics` writes the file again."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from scipy.special import chdtrc, ndtr

from orchestration.settings import DBT_PROJECT_DIR

REFERENCE = DBT_PROJECT_DIR / "seeds" / "p_value_reference.csv"
COLUMNS = ["case_id", "test_kind", "statistic", "degrees_of_freedom", "expected_p_value"]

# z: both sides of Cody's interval edges (0.46875 and 4, times √2), the familiar critical
# values, and the far tail down to p ≈ 1e-300 (the deepest a double holds with full
# precision); chi-square: odd and even df up to the largest the macro writes out.
NORMAL_STATISTICS = [
    0.0,
    1e-9,
    0.1,
    -0.5,
    0.6629,
    0.66291,
    1.0,
    -1.6448536269514722,
    1.959963984540054,
    2.5,
    3.0,
    4.0,
    5.6568,
    5.65686,
    6.5,
    8.0,
    10.0,
    -15.0,
    20.0,
    30.0,
    37.0,
]
CHI_SQUARE_STATISTICS = [1e-6, 0.5, 1.0, 3.841458820694124, 10.0, 50.0, 100.0, 500.0, 1300.0]
DEGREES_OF_FREEDOM = [1, 2, 3, 4, 5, 7, 10, 11, 50, 99, 100]


def reference_rows() -> list[list[str]]:
    """The reference p-values, from scipy.special (what scipy.stats' norm.sf and chi2.sf
    compute): `repr` keeps every digit of the double."""
    rows = []
    for z in NORMAL_STATISTICS:
        rows.append(["normal", repr(z), "0", repr(float(2.0 * ndtr(-abs(z))))])
    for df in DEGREES_OF_FREEDOM:
        for x in CHI_SQUARE_STATISTICS:
            rows.append(["chi_square", repr(x), str(df), repr(float(chdtrc(df, x)))])
    return [[str(n), *row] for n, row in enumerate(rows, start=1)]


def write_reference(path: Path = REFERENCE) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(reference_rows())


def test_the_reference_p_values_are_scipys() -> None:
    with REFERENCE.open(newline="") as held:
        rows = list(csv.reader(held))
    assert rows[0] == COLUMNS
    assert rows[1:] == reference_rows()


def test_the_reference_reaches_the_far_tails() -> None:
    """The data test is only as strict as its cases: they reach p below 1e-280 on both
    tests, and every df the macro's odd and even branches hold."""
    rows = reference_rows()
    smallest = {
        kind: min(float(r[4]) for r in rows if r[1] == kind) for kind in ("normal", "chi_square")
    }
    assert all(0 < p < 1e-280 for p in smallest.values()), smallest
    assert {int(r[3]) % 2 for r in rows if r[1] == "chi_square"} == {0, 1}
    assert not any(math.isnan(float(r[4])) for r in rows)


if __name__ == "__main__":
    write_reference()
