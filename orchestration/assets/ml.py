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
from typing import TYPE_CHECKING, Any

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
    models_dir = settings.data_dir / "models"
    version = dataset_version(frame)
    reused = trained_before(models_dir, version)
    if reused is not None:
        # The same training set gives the same model (fixed seed): the one trained on it
        # is reused, and sklearn is not even imported.
        context.log.info(f"training set unchanged ({version.content_sha256[:12]}): model reused")
        yield MaterializeResult(metadata=as_metadata(reused, retrained=False))
        return
    try:
        trained = train_moderation_classifier(frame)
    except TrainingDataError as error:
        context.log.warning(f"moderation classifier not trained: {error}")
        return
    record = save_model(models_dir, trained)
    context.log.info(f"macro F1 {trained.macro_f1:.3f} on {trained.test_rows} test rows")
    yield MaterializeResult(metadata=as_metadata(record, retrained=True))


def model_paths(models_dir: Path, version: DatasetVersion) -> tuple[Path, Path]:
    """The model trained on a training set, and its record (F1, rows, labels)."""
    stem = f"moderation_classifier-{version.content_sha256[:12]}"
    return models_dir / f"{stem}.pkl", models_dir / f"{stem}.json"


def save_model(models_dir: Path, trained: TrainedClassifier) -> dict[str, Any]:
    """Write the model, then its record (written last: a record names a whole model)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    model_path, record_path = model_paths(models_dir, trained.version)
    model_path.write_bytes(pickle.dumps(trained.pipeline))
    record = {
        "macro_f1": trained.macro_f1,
        "f1_by_class": trained.f1_by_class,
        "test_rows": trained.test_rows,
        "training_rows": trained.version.rows,
        "label_distribution": trained.version.label_counts,
        "training_set_sha256": trained.version.content_sha256,
        "model_path": str(model_path),
    }
    record_path.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    return record


def trained_before(models_dir: Path, version: DatasetVersion) -> dict[str, Any] | None:
    """The record of a model already trained on exactly this training set, if any."""
    model_path, record_path = model_paths(models_dir, version)
    if not (model_path.exists() and record_path.exists()):
        return None
    record = json.loads(record_path.read_text())
    return record if record.get("training_set_sha256") == version.content_sha256 else None


def as_metadata(record: dict[str, Any], retrained: bool) -> dict[str, MetadataValue]:
    table = "\n".join(
        [
            "| label | test F1 |",
            "|---|---|",
            *[f"| {label} | {score:.3f} |" for label, score in record["f1_by_class"].items()],
        ]
    )
    return {
        "macro_f1": MetadataValue.float(record["macro_f1"]),
        "f1_by_class": MetadataValue.md(table),
        "test_rows": MetadataValue.int(record["test_rows"]),
        "training_rows": MetadataValue.int(record["training_rows"]),
        "label_distribution": MetadataValue.json(record["label_distribution"]),
        "training_set_sha256": MetadataValue.text(record["training_set_sha256"]),
        "model_path": MetadataValue.path(record["model_path"]),
        "retrained": MetadataValue.bool(retrained),
    }
