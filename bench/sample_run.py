"""`make run`'s build of the shipped sample (seeds/), in a fresh data directory, its
terminal output saved under bench/results/ below a line that names the run (when, on
which machine, which commit). The README's example output is copied from such a file.

    python -m bench.sample_run [--results DIR]    (make bench runs it after bench.run)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import REPO, base_env
from bench.report import machine
from bench.run import RESULTS, commit


def sample_run(results: Path) -> Path:
    """Build seeds/ as `make run` does; the output's file."""
    with tempfile.TemporaryDirectory(prefix="dongne-sample-run-") as scratch:
        env = base_env(REPO / "seeds", Path(scratch) / "data")
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "build"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the sample's build failed:\n{done.stdout[-2000:]}{done.stderr}")
    now = datetime.now(UTC)
    header = (
        f"`make run` on the shipped sample (seeds/), {now:%Y-%m-%d %H:%M} UTC on {machine()}, "
        f"commit {commit()}. Its output:"
    )
    results.mkdir(parents=True, exist_ok=True)
    target = results / f"{now:%Y-%m-%d-%H%M}-sample-run.txt"
    output = done.stdout.replace(str(REPO / "seeds"), "/…/seeds").replace(scratch, "/…")
    target.write_text(f"{header}\n\n{output}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sample_run", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    print(f"saved: {sample_run(args.results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
