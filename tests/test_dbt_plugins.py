"""The functions the dbt models borrow from Python, against published reference values."""

from __future__ import annotations

import math

from orchestration.dbt_plugins import chi2_sf, keyed_hash, normal_two_sided_p


def test_keyed_hash_is_hmac_sha256_rfc_4231_case_2() -> None:
    # RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert keyed_hash("what do ya want for nothing?", "Jefe") == expected


def test_keyed_hash_depends_on_the_salt_and_keeps_nulls() -> None:
    assert keyed_hash("1001", "a") != keyed_hash("1001", "b")
    assert keyed_hash("1001", "a") == keyed_hash("1001", "a")
    assert keyed_hash(None, "a") is None


def test_normal_p_value_at_the_five_percent_critical_value() -> None:
    assert math.isclose(normal_two_sided_p(1.959963984540054), 0.05, rel_tol=1e-12)
    assert normal_two_sided_p(0.0) == 1.0
    assert normal_two_sided_p(-2.0) == normal_two_sided_p(2.0)
    assert normal_two_sided_p(None) is None


def test_chi_square_survival_matches_closed_forms() -> None:
    assert math.isclose(chi2_sf(3.841458820694124, 1), 0.05, rel_tol=1e-12)
    # df = 2: the survival function is exp(-x / 2).
    assert math.isclose(chi2_sf(4.0, 2), math.exp(-2.0), rel_tol=1e-12)
    assert chi2_sf(1.0, 0) is None
