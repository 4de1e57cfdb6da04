"""One run of `build_everything` in its own process: `python -m tests.one_run RAW DATA
OUT_JSON`.

The job runs in this process, as `make run` runs it (`run_build`, in process), against the
Dagster instance of DATA (the one `make run` and `make dev` use, with its warehouse pool),
without `make run`'s preflight (which refuses to start while another process holds the
warehouse), so two of these started at once meet only in the pool, as two runs launched
by a schedule and a sensor do. Writes the run's id and outcome to OUT_JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dagster import DagsterInstance

from orchestration.runner import prepare_dagster_home, run_build
from tests.conftest import settings_for


def main(raw: Path, data: Path, out: Path) -> int:
    settings = settings_for(raw, data)
    prepare_dagster_home(settings)
    with DagsterInstance.get() as instance:
        result = run_build(settings, instance)
    out.write_text(json.dumps({"run_id": result.run_id, "success": result.success}))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
