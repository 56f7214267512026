"""The user's own PostgreSQL (`sql_url`): what its role may do beyond reading, refused unless the
user says so (`sql_allow_superuser`), and a check that it answers at all.

Queries run with the URL's rights. Read-only transactions and a statement timeout stop writes to
tables, but not what some functions do in a single SELECT: a superuser or a replication role
created a replication slot that outlived the rollback (pg_create_logical_replication_slot),
ended other sessions (pg_terminate_backend), reloaded the configuration, reset statistics and
read /etc/passwd into an error message (pg_read_file). So a role with any of these rights is
refused: superuser, REPLICATION, membership in a predefined role that reaches the server's
files, programs or other sessions, or EXECUTE on an administration function (PostgreSQL docs,
"Predefined Roles" and "System Administration Functions").
"""
from __future__ import annotations

import re
from typing import Any

from compare.scoring.errors import ScoringError, database_message
from compare.scoring.spec import DB_PLACEHOLDER

PRIVILEGED_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program",
                    "pg_signal_backend")
# Revoked from PUBLIC by default; a grant of EXECUTE on one to the role is refused.
ADMIN_FUNCTIONS = ("pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_reload_conf",
                   "pg_rotate_logfile", "pg_stat_reset", "pg_stat_reset_shared", "pg_stat_reset_single_table_counters",
                   "pg_stat_reset_single_function_counters", "pg_stat_reset_slru", "pg_promote", "pg_switch_wal",
                   "pg_create_restore_point", "lo_import", "lo_export", "pg_file_write", "pg_file_unlink")
CHECK_CONNECT_TIMEOUT_S = 5
MISSING_DATABASE = re.compile(r'database "[^"]*" does not exist')
_RIGHTS = """
SELECT r.rolname, r.rolsuper, r.rolreplication,
       ARRAY(SELECT g.rolname FROM pg_catalog.pg_roles g
             WHERE g.rolname = ANY(%(roles)s) AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER') ORDER BY 1),
       ARRAY(SELECT DISTINCT p.proname::text FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname = ANY(%(functions)s)
               AND pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE') ORDER BY 1)
FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
"""


def privileges(conn: Any) -> tuple[str, list[str]]:
    """(the role's name, what it may do beyond reading), e.g. ('admin', ['superuser'])."""
    name, superuser, replication, roles, functions = conn.execute(
        _RIGHTS, {"roles": list(PRIVILEGED_ROLES), "functions": list(ADMIN_FUNCTIONS)}).fetchone()
    conn.rollback()
    if superuser:
        return name, ["superuser"]
    found = ["replication"] if replication else []
    found += [f"member of {r}" for r in roles]
    found += [f"EXECUTE on {', '.join(functions)}"] if functions else []
    return name, found


def refuse_privileged(conn: Any, allow: bool) -> None:
    """ScoringError when the connection's role may do more than read, unless `allow`."""
    if allow:
        return
    name, found = privileges(conn)
    if found:
        raise ScoringError(f"sql_url: role {name!r} may do more than read ({'; '.join(found)}): queries run with the "
                           "URL's rights, so give a role that can only SELECT, or accept the risk with "
                           "--sql-allow-superuser")


def check_server(url_template: str, databases: list[str], allow_superuser: bool) -> None:
    """At launch: the server answers (a short connect timeout) and its role may run the queries.
    `databases`: those the rows name (for a URL with {db}), tried in turn until one exists; a
    missing database only excludes its rows later, but none existing is refused."""
    import psycopg

    names = databases if DB_PLACEHOLDER in url_template else [""]
    for name in names:
        url = url_template.replace(DB_PLACEHOLDER, name)
        try:
            with psycopg.connect(
                url, connect_timeout=CHECK_CONNECT_TIMEOUT_S, application_name="ftadvisor-check"
            ) as conn:
                refuse_privileged(conn, allow_superuser)
                return
        except psycopg.Error as exc:
            if name and MISSING_DATABASE.search(str(exc)):
                continue
            where = f" to database {name!r}" if name else ""
            raise ScoringError(f"sql_url: cannot connect{where}: {database_message(exc)}") from None
    raise ScoringError(f"sql_url: none of the databases the rows name exists on the server ({', '.join(names[:10])}"
                       f"{', ...' if len(names) > 10 else ''})")
