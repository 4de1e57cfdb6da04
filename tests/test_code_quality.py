"""House rules: every dbt model documented in yml. (Ruff and sqlfluff run in `make lint`,
which CI runs before `make test`.)"""

from __future__ import annotations

import re

from orchestration.settings import DBT_PROJECT_DIR


def test_every_dbt_model_has_a_yml_entry() -> None:
    documented = set()
    for yml in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        documented |= set(re.findall(r"^\s*- name: (\w+)\s*$", yml.read_text(), re.MULTILINE))
    models = {path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
    assert models - documented == set()
