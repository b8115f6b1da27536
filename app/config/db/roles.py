"""The app's own PostgreSQL role, created and kept right by the migration task.

The migration task connects as RDS's master user (DATABASE_CREDENTIALS_ARN); the app's tasks
connect as DATABASE_URL's user, a role that:
- logs in with IAM tokens only (member of `rds_iam`, where the server has it: on RDS a user
  authenticates by one method, and rds_iam makes it IAM;
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/database-authentication.html);
- is no superuser and creates no database or role;
- owns the app's tables and sequences, and nothing else: the migration runs as that role
  (SET ROLE), so what it creates belongs to the app; tables an older deploy created as master
  are handed over once. It may create tables in the public schema (the next migration runs as
  it) and is granted CONNECT on this database.
Every statement is idempotent, so each deploy's migration reapplies it.
"""

from __future__ import annotations

import logging

from psycopg import sql

logger = logging.getLogger(__name__)

# Relation kinds the app's migrations create: tables, partitioned tables, sequences, views,
# materialized views. Indexes follow their table.
_OWNED_KINDS = ("r", "p", "S", "v", "m")
_ALTER = {"r": "TABLE", "p": "TABLE", "S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW"}


def provision_app_role(connection, role: str) -> dict[str, object]:
    """As the master user, on a psycopg connection in autocommit mode: the role exists with
    the rights above, and the master may SET ROLE to it. Returns what it did (for the log)."""
    ident = sql.Identifier(role)
    cur = connection.cursor()
    master = cur.execute("SELECT current_user").fetchone()[0]
    if master == role:
        raise ValueError(f"the app's role {role!r} must not be the master user")

    created = cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is None
    if created:
        cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
    cur.execute(
        sql.SQL(
            "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        ).format(ident)
    )
    iam = cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'").fetchone() is not None
    if iam:
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html
        cur.execute(sql.SQL("GRANT rds_iam TO {}").format(ident))
    database = cur.execute("SELECT current_database()").fetchone()[0]
    cur.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident)
    )
    cur.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(ident))
    # Membership lets the master SET ROLE for the migration (PostgreSQL 16+: SET option on).
    cur.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(ident))

    adopted = []
    rows = cur.execute(
        """
        SELECT c.relname, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = ANY(%s)
          AND pg_get_userbyid(c.relowner) = current_user
          -- sequences owned by a column move with their table
          AND NOT (c.relkind = 'S' AND EXISTS (
            SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
        ORDER BY c.relkind DESC, c.relname
        """,
        [list(_OWNED_KINDS)],
    ).fetchall()
    for name, kind in rows:
        cur.execute(
            sql.SQL("ALTER {} public.{} OWNER TO {}").format(
                sql.SQL(_ALTER[kind]), sql.Identifier(name), ident
            )
        )
        adopted.append(name)
    return {"app_role": role, "role_created": created, "rds_iam": iam, "tables_adopted": adopted}
