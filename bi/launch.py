"""`make bi`: Apache Superset on the published analytics.duckdb, dashboards loaded from
bi/bundle/ (Superset's own import format), served on 127.0.0.1.

Runs in the BI tool's own virtual environment (bi/requirements.txt). Steps, each one
skipped when already done for this Superset version: create Superset's metadata
database, its roles and the admin user; then, on every start, import the bundle (the
dashboards, charts, datasets and the database connection, overwriting what an earlier
start imported), set the Viewer and Analyst roles over it (bi/roles.py) and serve.
`--add-user NAME --role viewer|analyst` adds a person and prints their password.

Environment: DONGNE_DATA_DIR (data/), DONGNE_ANALYTICS_PATH (the published database,
<data>/analytics.duckdb), DONGNE_BI_HOME (Superset's state: its metadata database, secret
key and admin password; <data>/bi), DONGNE_BI_PORT (8088).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import zipfile
from importlib.metadata import version
from pathlib import Path

BI_DIR = Path(__file__).resolve().parent
BUNDLE = BI_DIR / "bundle"
ADMIN = "admin"
# The roles a person can be given (bi/roles.py sets what each may do).
ROLES = {"viewer": "Viewer", "analyst": "Analyst"}


class BiError(Exception):
    """A setup mistake: one line that says what to do."""


def data_dir() -> Path:
    return Path(os.environ.get("DONGNE_DATA_DIR") or BI_DIR.parent / "data")


def bi_home() -> Path:
    home = Path(os.environ.get("DONGNE_BI_HOME") or data_dir() / "bi").resolve()
    home.mkdir(parents=True, exist_ok=True)
    for name in ("secret_key", "admin_password"):
        secret = home / name
        if not secret.exists():
            secret.write_text(secrets.token_urlsafe(32 if name == "secret_key" else 12))
            secret.chmod(0o600)
    return home


def superset_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SUPERSET_CONFIG_PATH": str(BI_DIR / "superset_config.py"),
        "FLASK_APP": "superset",
        "DONGNE_BI_HOME": str(home),
        "SUPERSET_LOAD_EXAMPLES": "no",
        "PYTHONDONTWRITEBYTECODE": "1",  # nothing written beside the config in the repository
    }


def superset(home: Path, *args: str) -> str:
    """One Superset CLI command (see `logged`)."""
    return logged(home, [str(Path(sys.executable).with_name("superset")), *args])


def logged(home: Path, command: list[str]) -> str:
    """A command in Superset's environment; its output goes to the BI log, shown only on
    failure, and is returned (some commands report a refusal with exit status 0)."""
    done = subprocess.run(
        command,
        env=superset_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    log = home / "superset-cli.log"
    words = [Path(command[0]).name, *command[1:]]
    shown = " ".join("***" if words[n - 1] == "--password" else w for n, w in enumerate(words))
    with log.open("a") as out:
        out.write(f"$ {shown}\n{done.stdout}")
    if done.returncode != 0:
        tail = done.stdout.splitlines()[-15:]
        raise BiError(f"`{' '.join(words[:2])}` failed (log: {log}):\n" + "\n".join(tail))
    return done.stdout


def prepare(home: Path) -> None:
    """Superset's metadata database, roles and admin user, once per Superset version."""
    stamp = home / "prepared-for"
    if stamp.exists() and stamp.read_text() == version("apache-superset"):
        return
    superset(home, "db", "upgrade")
    superset(home, "init")
    superset(
        home,
        *("fab", "create-admin", "--username", ADMIN, "--firstname", "Dongne"),
        *("--lastname", "Data", "--email", "admin@dongne.example"),
        *("--password", (home / "admin_password").read_text().strip()),
    )
    stamp.write_text(version("apache-superset"))


def bundle_zip(analytics: Path, target: Path) -> Path:
    """bi/bundle as the ZIP Superset imports, the database's path filled in."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(BUNDLE.rglob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if path.parent.name == "databases":
                text = string.Template(text).substitute(DONGNE_ANALYTICS_PATH=str(analytics))
            archive.writestr(f"dongne_bundle/{path.relative_to(BUNDLE).as_posix()}", text)
    return target


def load_dashboards(home: Path, analytics: Path) -> None:
    with tempfile.TemporaryDirectory(dir=home) as scratch:
        archive = bundle_zip(analytics, Path(scratch) / "bundle.zip")
        superset(home, "import-dashboards", "--path", str(archive), "--username", ADMIN)


def sync_roles(home: Path) -> None:
    """The Viewer and Analyst roles (bi/roles.py), over the datasets just imported."""
    logged(home, [sys.executable, str(BI_DIR / "roles.py")])


def add_user(home: Path, username: str, role: str, email: str | None) -> str:
    """A person who signs in as `username` with `role` (viewer or analyst); returns the
    password made for them, which they change under Settings, Info."""
    if not (home / "prepared-for").exists():
        raise BiError("Superset is not set up yet: run `make bi` once first.")
    password = secrets.token_urlsafe(12)
    said = superset(
        home,
        *("fab", "create-user", "--role", ROLES[role], "--username", username),
        *("--firstname", username, "--lastname", role),
        *("--email", email or f"{username}@dongne.example", "--password", password),
    )
    if "already exists" in said:
        raise BiError(
            f"{username} (or the e-mail) already has an account: sign in as admin and "
            "change it under Settings, List Users."
        )
    if "created" not in said:
        raise BiError(f"Superset did not create {username}: {said.strip()[-300:]}")
    return password


def serve(home: Path, port: int) -> None:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        raise BiError("gunicorn is missing from the BI environment: run `make bi` again.")
    os.execve(
        gunicorn,
        [
            gunicorn,
            *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"),
            *("--timeout", "120", "--log-level", "warning"),
            "superset.app:create_app()",
        ],
        superset_env(home),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-serve", action="store_true", help="prepare and load, then stop")
    parser.add_argument("--add-user", metavar="NAME", help="add a person, print a password")
    parser.add_argument("--role", choices=sorted(ROLES), default="viewer")
    parser.add_argument("--email", help="the person's e-mail (NAME@dongne.example)")
    args = parser.parse_args(argv)
    if args.add_user is not None:
        if not args.add_user.strip():
            print("error: say who: make bi-user NAME=kim ROLE=viewer", file=sys.stderr)
            return 2
        try:
            password = add_user(bi_home(), args.add_user, args.role, args.email)
        except BiError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"{args.add_user} ({args.role}) signs in with the password {password}")
        return 0
    published = os.environ.get("DONGNE_ANALYTICS_PATH") or data_dir() / "analytics.duckdb"
    analytics = Path(published).resolve()
    port = int(os.environ.get("DONGNE_BI_PORT", "8088"))
    try:
        if not analytics.is_file():
            raise BiError(f"no published database at {analytics}: run `make run` first.")
        home = bi_home()
        prepare(home)
        load_dashboards(home, analytics)
        sync_roles(home)
    except BiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.no_serve:
        return 0
    password = (home / "admin_password").read_text().strip()
    print(
        f"Superset on http://127.0.0.1:{port}/superset/dashboard/growth/ "
        f"(user {ADMIN}, password {password}; also marketplace, experiments, incidents). "
        "Ctrl-C stops it.",
        flush=True,
    )
    serve(home, port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
