"""Consumers of the ml tables: a baseline moderation classifier.

It reads the *published* analytics database, as a data scientist would, so it can never
see personal data or half-built tables, and it records exactly which data it saw.
"""

import hashlib
import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

if TYPE_CHECKING:  # scikit-learn takes seconds to import: only the training step loads it
    from sklearn.pipeline import Pipeline
from orchestration.resources import PlatformResource

TRAINING_QUERY = """
    select target_type, target_id, text, label, split
    from ml.moderation_training_set
    order by target_type, target_id
"""


class TrainingDataError(RuntimeError):
    """The training set cannot train a classifier: the message says why."""


@dataclass(frozen=True)
class DatasetVersion:
    """Which data a model saw: enough to tell two training sets apart."""

    rows: int
    label_counts: dict[str, int]
    content_sha256: str


@dataclass(frozen=True)
class TrainedClassifier:
    pipeline: "Pipeline"
    version: DatasetVersion
    macro_f1: float
    f1_by_class: dict[str, float]
    test_rows: int


def dataset_version(frame: pd.DataFrame) -> DatasetVersion:
    digest = hashlib.sha256()
    for row in frame[["target_type", "target_id", "text", "label", "split"]].itertuples(
        index=False
    ):
        digest.update(json.dumps(list(row), ensure_ascii=False, default=str).encode())
    counts = frame["label"].value_counts().sort_index()
    return DatasetVersion(
        len(frame), {str(k): int(v) for k, v in counts.items()}, digest.hexdigest()
    )


def train_moderation_classifier(frame: pd.DataFrame) -> TrainedClassifier:
    """TF-IDF over character n-grams (robust for Korean) and a class-weighted linear model."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import Pipeline

    train = frame[frame["split"] == "train"]
    test = frame[frame["split"] == "test"]
    if train["label"].nunique() < 2:
        raise TrainingDataError(
            "the train split holds fewer than two labels: label more content before training."
        )
    if test.empty:
        raise TrainingDataError("the test split is empty: there is nothing to evaluate on.")
    pipeline = Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(1, 3), min_df=1, sublinear_tf=True
                ),
            ),
            # Rare classes (fraud, prohibited) would vanish without class weights.
            ("model", LogisticRegression(class_weight="balanced", max_iter=2000, random_state=0)),
        ]
    )
    pipeline.fit(train["text"].fillna(""), train["label"])
    predicted = pipeline.predict(test["text"].fillna(""))
    labels = sorted(set(train["label"]) | set(test["label"]))
    per_class = f1_score(test["label"], predicted, labels=labels, average=None, zero_division=0)
    macro = f1_score(test["label"], predicted, labels=labels, average="macro", zero_division=0)
    return TrainedClassifier(
        pipeline=pipeline,
        version=dataset_version(frame),
        macro_f1=float(macro),
        f1_by_class={label: float(score) for label, score in zip(labels, per_class, strict=True)},
        test_rows=len(test),
    )


def load_training_set(analytics_path: Path) -> pd.DataFrame:
    with duckdb.connect(str(analytics_path), read_only=True) as con:
        return con.execute(TRAINING_QUERY).df()


@asset(
    name="moderation_classifier",
    group_name="ml",
    kinds={"scikitlearn", "python"},
    owners=["team:data-science"],
    deps=["analytics_db"],
    # Too little labelled data skips the model (a warning, no materialization) rather than
    # failing a build whose tables were published fine.
    output_required=False,
    description="Baseline moderation classifier (TF-IDF + class-weighted logistic regression) "
    "trained on ml.moderation_training_set from the published database; reports test F1.",
)
def moderation_classifier(
    context: AssetExecutionContext, platform: PlatformResource
) -> Iterator[MaterializeResult]:
    settings = platform.settings()
    frame = load_training_set(settings.analytics_path)
    try:
        trained = train_moderation_classifier(frame)
    except TrainingDataError as error:
        context.log.warning(f"moderation classifier not trained: {error}")
        return
    models_dir = settings.data_dir / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    model_path = models_dir / f"moderation_classifier-{trained.version.content_sha256[:12]}.pkl"
    model_path.write_bytes(pickle.dumps(trained.pipeline))
    table = "\n".join(
        [
            "| label | test F1 |",
            "|---|---|",
            *[f"| {label} | {score:.3f} |" for label, score in trained.f1_by_class.items()],
        ]
    )
    context.log.info(f"macro F1 {trained.macro_f1:.3f} on {trained.test_rows} test rows")
    yield MaterializeResult(
        metadata={
            "macro_f1": MetadataValue.float(trained.macro_f1),
            "f1_by_class": MetadataValue.md(table),
            "test_rows": MetadataValue.int(trained.test_rows),
            "training_rows": MetadataValue.int(trained.version.rows),
            "label_distribution": MetadataValue.json(trained.version.label_counts),
            "training_set_sha256": MetadataValue.text(trained.version.content_sha256),
            "model_path": MetadataValue.path(str(model_path)),
        }
    )
