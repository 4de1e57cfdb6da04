"""The keyed hash the dbt-duckdb plugin's pads serve, against RFC 4231's reference values
(the p-values are SQL: tests/test_statistics.py)."""

from __future__ import annotations

from orchestration.dbt_plugins import keyed_hash


def test_keyed_hash_is_hmac_sha256_rfc_4231_case_2() -> None:
    # RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert keyed_hash("what do ya want for nothing?", "Jefe") == expected


def test_keyed_hash_depends_on_the_salt_and_keeps_nulls() -> None:
    assert keyed_hash("1001", "a") != keyed_hash("1001", "b")
    assert keyed_hash("1001", "a") == keyed_hash("1001", "a")
    assert keyed_hash(None, "a") is None
