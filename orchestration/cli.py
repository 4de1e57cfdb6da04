"""The command line behind `make run` (and `make manifest`, `dev`, `docs`, `sql`, `metrics`).

    python -m orchestration.cli prepare       # dbt manifest (dagster-dbt loads it)
    python -m orchestration.cli build         # raw -> lake -> dbt -> analytics.duckdb
        # -v: full log; --from/--to: some deliveries; --headline: the headline marts only
    python -m orchestration.cli summary       # what is published, and the lake's quarantine
    python -m orchestration.cli dagster-home  # prepare and print DAGSTER_HOME (make dev)
    python -m orchestration.cli docs          # the dbt docs site (make docs)
    python -m orchestration.cli sql "..."     # one read-only query (make sql)
    python -m orchestration.cli mf query ...  # the semantic layer, MetricFlow (make metrics)

Errors a user can fix are printed as one sentence, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from datetime import date
from pathlib import Path

from orchestration import timings
from orchestration.commands import run_metricflow, run_query, serve_docs
from orchestration.preflight import UserError
from orchestration.runner import build, prepare_dagster_home, prepare_dbt
from orchestration.settings import (
    REPO_ROOT,
    Settings,
    SettingsError,
    default_salt_warning,
    load_settings,
)
from orchestration.summary import print_summary
from orchestration.window import DeliveryWindow


def _day(text: str) -> str:
    """A delivery day as given on the command line (YYYY-MM-DD)."""
    return date.fromisoformat(text).isoformat()


def error_log(settings: Settings | None) -> Path:
    """Where an unexpected error's traceback goes: <data>/logs/, or a new temporary file
    when the settings themselves could not be read."""
    if settings is not None:
        folder = settings.data_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "last-error.log"
    handle, name = tempfile.mkstemp(prefix="dongne-error-", suffix=".log")
    os.close(handle)
    return Path(name)


def main(argv: list[str] | None = None) -> int:
    timings.record("process start and imports", timings.process_age())
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.cli", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "command", choices=["prepare", "build", "summary", "dagster-home", "docs", "sql", "mf"]
    )
    parser.add_argument(
        "--from",
        dest="first",
        type=_day,
        help="with `build`: only the deliveries from this day (YYYY-MM-DD) ...",
    )
    parser.add_argument("--to", dest="last", type=_day, help="... to this day (default: --from)")
    parser.add_argument(
        "--headline",
        action="store_true",
        help="with `build`: only the headline marts and the publish, as the arrival sensor's "
        "near-real-time run does (the other tables keep their last build)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with `build`: show Dagster's and dbt's full log live (by default it goes to "
        "<data>/logs/ and the terminal shows one line per stage)",
    )
    parser.add_argument(
        "query",
        nargs="?",
        help="with `sql`: the query to run on analytics.duckdb; with `mf`: MetricFlow's "
        "command, followed by its own options",
    )
    args, mf_args = parser.parse_known_args(argv)
    if mf_args and args.command != "mf":
        parser.error(f"unrecognized arguments: {' '.join(mf_args)}")
    os.chdir(REPO_ROOT)
    settings = None
    try:
        settings = load_settings()
        if args.command == "prepare":
            prepare_dbt(settings)
        elif args.command == "build":
            if warning := default_salt_warning(settings):
                print(warning, file=sys.stderr)
            if args.last and not args.first:
                parser.error("--to needs --from")
            if args.first and args.last and args.last < args.first:
                parser.error(f"--to {args.last} is before --from {args.first}")
            window = (
                DeliveryWindow.days(args.first, args.last) if args.first else DeliveryWindow.every()
            )
            return build(settings, window, verbose=args.verbose, headline=args.headline)
        elif args.command == "summary":
            print_summary(settings)
        elif args.command == "dagster-home":
            print(prepare_dagster_home(settings))
        elif args.command == "docs":
            return serve_docs(settings)
        elif args.command == "sql":
            run_query(settings, args.query)
        elif args.command == "mf":
            return run_metricflow(settings, [a for a in [args.query, *mf_args] if a])
    except (UserError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # never a raw traceback: one line, the details in a file
        log = error_log(settings)
        log.write_text(traceback.format_exc(), encoding="utf-8")
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(
            f"error: {type(error).__name__}: {message} (the full traceback is in {log})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
