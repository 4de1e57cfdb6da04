"""The baseline moderation classifier: trains, evaluates, and names the data it saw."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.assets.ml import TrainingDataError, dataset_version, train_moderation_classifier


def frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [("listing", n, text, label, split) for n, (text, label, split) in enumerate(rows)],
        columns=["target_type", "target_id", "text", "label", "split"],
    )


SEPARABLE = [
    *[(f"부업 모집 월 300 보장 {n}", "spam", "train") for n in range(6)],
    *[(f"원목 의자 상태 좋아요 {n}", "ok", "train") for n in range(6)],
    ("부업 모집 월 300", "spam", "test"),
    ("원목 의자 좋아요", "ok", "test"),
]


def test_classifier_separates_clearly_different_texts() -> None:
    trained = train_moderation_classifier(frame(SEPARABLE))
    assert trained.f1_by_class == {"ok": 1.0, "spam": 1.0}
    assert trained.macro_f1 == 1.0
    assert trained.test_rows == 2


def test_training_needs_two_labels_in_the_train_split() -> None:
    rows = [("a", "ok", "train"), ("b", "ok", "train"), ("c", "spam", "test")]
    with pytest.raises(TrainingDataError, match="fewer than two labels"):
        train_moderation_classifier(frame(rows))


def test_dataset_version_changes_when_any_label_changes() -> None:
    original = dataset_version(frame(SEPARABLE))
    relabelled = frame(SEPARABLE)
    relabelled.loc[0, "label"] = "ok"
    assert dataset_version(frame(SEPARABLE)) == original
    assert dataset_version(relabelled).content_sha256 != original.content_sha256
    assert original.rows == 14 and original.label_counts == {"ok": 7, "spam": 7}
