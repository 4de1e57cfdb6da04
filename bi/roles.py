"""Superset's roles for Dongne's people, set on every `make bi` start (after the bundle's
import, so that each dataset it brought is covered). Runs in the BI environment:
`python bi/roles.py` with launch.py's Superset environment.

- **Viewer**: the dashboards. Superset's own read-only set for viewing dashboards
  (`PUBLIC_ROLE_PERMISSIONS`: dashboards, their charts and the charts' data, filters and
  permalinks), the Dashboards menu, and access to each dataset of the published database
  (a chart draws only from datasets its viewer may read). Reading charts also opens the
  chart list (by URL; the menu does not show it), read-only. No SQL Lab, no dataset
  list, no Explore, no editing, no database beyond those datasets.
- **Analyst**: a Viewer who also queries the published database in SQL Lab. Nothing
  there writes: DuckDB opens the file read_only with file, network and extension access
  off and its settings locked (read_text, COPY TO, ATTACH, INSTALL fail), the connection
  allows no DML, and Superset refuses DuckDB's file readers (bi/superset_config.py).

Admin stays Superset's own. Everyone else gets one of these two roles (launch.py
--add-user): a role is a set of permissions, and these are listed here, in full.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import yaml
from launch import ROLES  # bi/launch.py, beside this script

BUNDLE = Path(__file__).resolve().parent / "bundle"
VIEWER, ANALYST = ROLES["viewer"], ROLES["analyst"]

# Besides Superset's read-only dashboard set: see one's own profile and reset one's
# password, and list the dashboards.
VIEWER_EXTRA = {
    ("can_userinfo", "UserDBModelView"),
    ("resetmypassword", "UserDBModelView"),
    ("can_recent_activity", "Log"),
    ("menu_access", "Dashboards"),
}

# Superset's built-in sql_lab role, less what writes anywhere but SQL Lab's own tabs and
# saved queries (CSV export stays: an analyst takes results away).
SQL_LAB_LEFT_OUT = {("can_test_conn", "Superset")}


def published_database_uuid() -> str:
    (database,) = (BUNDLE / "databases").glob("*.yaml")
    return str(yaml.safe_load(database.read_text())["uuid"])


def main() -> int:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        sync_roles()
    return 0


def sync_roles() -> None:
    from superset import db, security_manager
    from superset.models.core import Database

    manager = security_manager
    database = db.session.query(Database).filter_by(uuid=published_database_uuid()).one()

    def grant(pairs: set[tuple[str, str]]) -> list[Any]:
        granted = []
        for permission, view in sorted(pairs):
            found = manager.find_permission_view_menu(permission, view)
            if found is None:
                if permission not in manager.OBJECT_SPEC_PERMISSIONS:
                    continue  # a permission this Superset version does not have
                found = manager.add_permission_view_menu(permission, view)
            granted.append(found)
        return granted

    datasets = {("datasource_access", table.perm) for table in database.tables}
    viewer = set(manager.PUBLIC_ROLE_PERMISSIONS) | VIEWER_EXTRA | datasets
    sql_lab = (manager.SQLLAB_ONLY_PERMISSIONS | manager.SQLLAB_EXTRA_PERMISSION_VIEWS) - (
        SQL_LAB_LEFT_OUT
    )
    analyst = viewer | sql_lab | {("database_access", database.perm)}
    for name, pairs in ((VIEWER, viewer), (ANALYST, analyst)):
        role = manager.find_role(name) or manager.add_role(name)
        role.permissions = grant(pairs)
    db.session.commit()


if __name__ == "__main__":
    os.environ.setdefault("SUPERSET_LOAD_EXAMPLES", "no")
    sys.exit(main())
