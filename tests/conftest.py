"""Shared fixtures: build the platform into a temporary data directory."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from orchestration.runner import run_build
from orchestration.settings import Settings


def settings_for(raw_dir: Path, data_dir: Path) -> Settings:
    return Settings(
        raw_dir=raw_dir,
        data_dir=data_dir,
        pii_salt="test-salt",
        pii_salt_is_default=False,
        duckdb_memory_limit="2GB",
        duckdb_threads=2,
    )


def build_platform(raw_dir: Path, data_dir: Path) -> ExecuteInProcessResult:
    """Run the whole `build_everything` job in process; restores the environment after."""
    saved = dict(os.environ)
    try:
        with DagsterInstance.ephemeral() as instance:
            result = run_build(settings_for(raw_dir, data_dir), instance)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return result


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def copy_build(built: Path, data: Path) -> Path:
    """A copy of a built data directory to build on, without its Dagster instance and temp
    files (a test's runs start from an empty run history)."""
    shutil.copytree(built, data, ignore=shutil.ignore_patterns("dagster_home", "tmp"))
    return data


def tree_digest(root: Path) -> str:
    """A digest of every file's path, bytes and mode under root."""
    assert root.is_dir(), f"{root} is not a directory"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
            digest.update(str(path.stat().st_mode).encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def sample_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated delivery (36 days: the generator's minimum)."""
    from dongne_sample import generate

    raw = tmp_path_factory.mktemp("sample") / "raw"
    generate(raw, users=60, days=36, seed=11)
    return raw


@pytest.fixture(scope="session")
def sample_build(
    sample_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, ExecuteInProcessResult]]:
    data_dir = tmp_path_factory.mktemp("sample_data")
    result = build_platform(sample_raw_dir, data_dir)
    assert result.success, "the sample build failed"
    yield data_dir, result
