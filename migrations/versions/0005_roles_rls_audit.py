"""roles, row-level security, audit trail, stock ledger rule

Revision ID: 0005
Revises: 0003

Who may do what is enforced by the server, not by the desk:

* Four NOLOGIN group roles (``medapp_nurse``, ``medapp_lead_nurse``, ``medapp_district_admin``,
  ``medapp_auditor``) carry the table privileges; every user's own role is a member of exactly
  one of them (district server: a LOGIN role with a SCRAM password; private database: a NOLOGIN
  role the embedded superuser connection takes with ``SET ROLE``). Group roles are global to a
  server: they are created idempotently (two sessions migrating two databases at the same time
  both succeed) and never dropped by a downgrade.
* Application roles get SELECT/INSERT/UPDATE as each needs, never DELETE on clinical tables,
  TRUNCATE, REFERENCES, TRIGGER or ownership (so no DDL, no ``ALTER TABLE … DISABLE TRIGGER``).
  ``users.password_hash`` is not readable by them (column-level grants).
* Row-level security on every table holding student data, keyed on ``medapp_my_schools()``;
  policies are attached to the group roles, so a nurse's query is planned with the nurse
  policies only, and the STABLE function is wrapped in ``(SELECT …)`` so it runs once per query
  (an InitPlan the planner can use as an index condition) instead of once per row.
  RLS is ENABLEd but not FORCEd: FORCE would subject the table owner to the policies, and the
  owner is exactly the role that runs migrations, the demo loader and the formulary import (it
  is never a desk user: ``medapp_actor()`` would be nobody, so it would see nothing). Superusers
  bypass RLS even when forced, so FORCE would add nothing on the private database either.
* ``audit_log`` is written by SECURITY DEFINER statement-level triggers (transition tables: a
  COPY of half a million dose logs is one INSERT … SELECT, not half a million calls) on the
  clinical tables and on users, schools and user_schools; it refuses UPDATE, DELETE and
  TRUNCATE for everybody, the owner included.
* Stock: ``medication_inventory.quantity`` changes only together with an
  ``inventory_adjustments`` line for that lot in the same transaction (deferred constraint
  trigger, checked at commit, whoever writes).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NURSE = "medapp_nurse"
LEAD = "medapp_lead_nurse"
ADMIN = "medapp_district_admin"
AUDITOR = "medapp_auditor"
GROUPS = (NURSE, LEAD, ADMIN, AUDITOR)
CLINICAL = f"{NURSE}, {LEAD}"
EVERYONE = ", ".join(GROUPS)

OLD_ROLES = ("NURSE", "ADMIN", "AIDE", "VIEWER")
NEW_ROLES = ("NURSE", "LEAD_NURSE", "DISTRICT_ADMIN", "AUDITOR")

AUDITED = (
    "students",
    "student_medications",
    "medication_logs",
    "allergies",
    "medication_inventory",
    "inventory_adjustments",
    "incident_reports",
    "adverse_reactions",
    "users",
    "schools",
    "user_schools",
)

USER_COLUMNS_READABLE = (
    "id",
    "first_name",
    "last_name",
    "username",
    "role",
    "school_id",
    "is_active",
    "created_at",
)

# -- who is acting ---------------------------------------------------------------------------
# The actor is the authenticated login role when that is a medapp user (district server: it
# cannot be changed by SET ROLE, so a nurse cannot hide behind her group role), else the role
# taken with SET ROLE (private database: the embedded superuser connection takes the signed-in
# user's role), else the session user (owner, superuser, scripts).
IDENTITY_FUNCTIONS = """
-- plpgsql (not sql) for the two functions every policy calls: their query plans are cached
-- for the session instead of being planned again at every call site of every query.
CREATE FUNCTION medapp_actor() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM public.users u WHERE u.username = session_user::text) THEN
    RETURN session_user::text;
  ELSIF current_setting('role') <> 'none' THEN
    RETURN current_setting('role');
  END IF;
  RETURN session_user::text;
END $$;

CREATE FUNCTION medapp_my_user_id() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT u.id FROM public.users u WHERE u.username = public.medapp_actor() AND u.is_active
$$;

CREATE FUNCTION medapp_my_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT u.role::text FROM public.users u WHERE u.username = public.medapp_actor() AND u.is_active
$$;

CREATE FUNCTION medapp_my_schools() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  who text := public.medapp_actor();
  found uuid[];
BEGIN
  SELECT coalesce(array_agg(us.school_id ORDER BY us.school_id), '{}'::uuid[]) INTO found
  FROM public.user_schools us JOIN public.users u ON u.id = us.user_id
  WHERE u.username = who AND u.is_active;
  RETURN found;
END $$;

-- True for roles row-level security does not apply to (superuser, BYPASSRLS, the tables'
-- owner) and for auditors: they see every lot in the alert view. Not SECURITY DEFINER:
-- current_user must be the caller.
CREATE FUNCTION medapp_sees_all_stock() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  SELECT coalesce((SELECT r.rolsuper OR r.rolbypassrls FROM pg_catalog.pg_roles r
                   WHERE r.rolname = current_user), false)
      OR pg_catalog.pg_has_role(current_user,
           (SELECT c.relowner FROM pg_catalog.pg_class c
            WHERE c.oid = 'public.medication_inventory'::regclass), 'USAGE')
      OR coalesce(public.medapp_my_role() = 'AUDITOR', false)
$$;

-- The school an audit row belongs to (NULL when none: users, schools, memberships), so a lead
-- nurse reads the history of her schools only.
CREATE FUNCTION medapp_audit_school(tbl text, row_id text, old_row jsonb, new_row jsonb)
RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  r jsonb := coalesce(new_row, old_row);
  sid uuid;
BEGIN
  IF r IS NULL AND row_id IS NOT NULL AND tbl IN (
      'students', 'student_medications', 'medication_logs', 'allergies', 'medication_inventory',
      'inventory_adjustments', 'incident_reports', 'adverse_reactions') THEN
    -- a READ row: look the record up
    EXECUTE format('SELECT to_jsonb(t) FROM public.%I t WHERE t.id::text = $1', tbl)
      INTO r USING row_id;
  END IF;
  IF tbl = 'students' THEN
    sid := (r->>'school_id')::uuid;
  ELSIF tbl IN ('student_medications', 'allergies', 'incident_reports', 'adverse_reactions') THEN
    SELECT s.school_id INTO sid FROM public.students s WHERE s.id = (r->>'student_id')::uuid;
  ELSIF tbl = 'medication_logs' THEN
    SELECT s.school_id INTO sid FROM public.student_medications sm
      JOIN public.students s ON s.id = sm.student_id
      WHERE sm.id = (r->>'student_medication_id')::uuid;
  ELSIF tbl IN ('medication_inventory', 'inventory_adjustments') THEN
    SELECT coalesce(mi.school_id, s.school_id) INTO sid FROM public.medication_inventory mi
      LEFT JOIN public.students s ON s.id = mi.student_id
      WHERE mi.id = CASE WHEN tbl = 'medication_inventory' THEN (r->>'id')::uuid
                         ELSE (r->>'inventory_id')::uuid END;
  END IF;
  RETURN sid;
END $$;
"""

# -- audit trail -----------------------------------------------------------------------------
AUDIT_FUNCTIONS = """
-- A row as the audit log keeps it: users.password_hash is replaced by a short fingerprint
-- (shows that it changed, reveals nothing).
CREATE FUNCTION medapp_audit_row(r jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public AS $$
  SELECT CASE WHEN r ? 'password_hash' THEN
    jsonb_set(r, '{password_hash}',
              CASE WHEN r->>'password_hash' IS NULL THEN 'null'::jsonb
                   ELSE to_jsonb('fp:' || left(md5(r->>'password_hash'), 8)) END)
  ELSE r END
$$;

CREATE FUNCTION medapp_audit_key(r jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public AS $$
  SELECT coalesce(r->>'id', (r->>'user_id') || ':' || (r->>'school_id'))
$$;

CREATE FUNCTION medapp_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  who text := public.medapp_actor();
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO public.audit_log (actor, table_name, row_id, action, new_row)
    SELECT who, TG_TABLE_NAME, public.medapp_audit_key(j), 'INSERT', public.medapp_audit_row(j)
    FROM (SELECT to_jsonb(n) AS j FROM new_rows n) x;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO public.audit_log (actor, table_name, row_id, action, old_row, new_row)
    SELECT who, TG_TABLE_NAME, coalesce(n.k, o.k), 'UPDATE',
           public.medapp_audit_row(o.j), public.medapp_audit_row(n.j)
    FROM (SELECT public.medapp_audit_key(to_jsonb(r)) AS k, to_jsonb(r) AS j FROM old_rows r) o
    FULL JOIN
         (SELECT public.medapp_audit_key(to_jsonb(r)) AS k, to_jsonb(r) AS j FROM new_rows r) n
      ON n.k = o.k;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO public.audit_log (actor, table_name, row_id, action, old_row)
    SELECT who, TG_TABLE_NAME, public.medapp_audit_key(j), 'DELETE', public.medapp_audit_row(j)
    FROM (SELECT to_jsonb(o) AS j FROM old_rows o) x;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION medapp_audit_log_immutable() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
  RAISE EXCEPTION 'medapp: the audit log is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

-- "Opening a student's record is logged too."
CREATE FUNCTION medapp_log_read(table_name text, row_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF table_name IS NULL OR table_name NOT IN (
      'students', 'student_medications', 'medication_logs', 'allergies', 'medication_inventory',
      'inventory_adjustments', 'incident_reports', 'adverse_reactions', 'users', 'schools') THEN
    RAISE EXCEPTION 'medapp: % is not an audited table', table_name USING ERRCODE = '22023';
  END IF;
  INSERT INTO public.audit_log (actor, table_name, row_id, action)
  VALUES (public.medapp_actor(), table_name, row_id::text, 'READ');
END $$;

-- The alert view belongs to the owner; desks refresh it through this function. A refresh
-- already running elsewhere is enough: this one then returns at once instead of queueing.
CREATE FUNCTION medapp_refresh_inventory_alerts() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF pg_try_advisory_xact_lock(hashtext('medapp_refresh_inventory_alerts')) THEN
    REFRESH MATERIALIZED VIEW CONCURRENTLY public.medication_inventory_alerts;
  END IF;
END $$;
"""

# -- stock ledger ----------------------------------------------------------------------------
# At commit, a lot whose quantity changed needs a ledger line for it written by this very
# transaction (or one of its savepoints). "Written by this transaction": the line's xmin,
# widened to 64 bits with the epoch of our own id, is at or after our top-level id and still
# 'in progress' — a visible row with an in-progress xmin can only be our own. Frozen rows
# (xmin 2) are never ours.
LEDGER_FUNCTION = """
CREATE FUNCTION medapp_check_stock_ledger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  top bigint := txid_current();
  lo bigint := txid_current() % 4294967296;
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM (
      SELECT (a.xmin::text::bigint - lo + 4294967296) % 4294967296 AS d
      FROM public.inventory_adjustments a
      WHERE a.inventory_id = NEW.id AND a.xmin::text::bigint > 2
    ) x
    WHERE x.d < 2147483648
      AND pg_xact_status(((top + x.d)::text)::xid8) = 'in progress'
  ) THEN
    RAISE EXCEPTION 'medapp: the quantity of stock lot % changed without a ledger line '
      '(inventory_adjustments) in the same transaction', NEW.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$;
"""

ALERTS_VISIBLE_VIEW = """
CREATE VIEW medication_inventory_alerts_visible WITH (security_barrier) AS
SELECT a.* FROM public.medication_inventory_alerts a
WHERE (SELECT public.medapp_sees_all_stock())
   OR a.school_id = ANY ((SELECT public.medapp_my_schools())::uuid[])
   OR a.student_id IN (SELECT s.id FROM public.students s
                       WHERE s.school_id = ANY ((SELECT public.medapp_my_schools())::uuid[]))
"""

# The cast makes it a scalar sub-select (an InitPlan, run once), not "= ANY (subquery)".
MY_SCHOOLS = "(SELECT public.medapp_my_schools())::uuid[]"
MY_STUDENTS = f"(SELECT s.id FROM public.students s WHERE s.school_id = ANY ({MY_SCHOOLS}))"
MY_ORDERS = (
    "(SELECT sm.id FROM public.student_medications sm JOIN public.students s "
    f"ON s.id = sm.student_id WHERE s.school_id = ANY ({MY_SCHOOLS}))"
)
MY_LOTS = (
    "(SELECT mi.id FROM public.medication_inventory mi "
    f"WHERE mi.school_id = ANY ({MY_SCHOOLS}) OR mi.student_id IN {MY_STUDENTS})"
)
# table -> (row predicate for nurses and lead nurses, commands they have)
RLS_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "students": (f"school_id = ANY ({MY_SCHOOLS})", ("SELECT", "INSERT", "UPDATE")),
    "student_medications": (f"student_id IN {MY_STUDENTS}", ("SELECT", "INSERT", "UPDATE")),
    "allergies": (f"student_id IN {MY_STUDENTS}", ("SELECT", "INSERT", "UPDATE")),
    "incident_reports": (f"student_id IN {MY_STUDENTS}", ("SELECT", "INSERT", "UPDATE")),
    "adverse_reactions": (f"student_id IN {MY_STUDENTS}", ("SELECT", "INSERT", "UPDATE")),
    "medication_logs": (
        f"student_medication_id IN {MY_ORDERS}",
        ("SELECT", "INSERT", "UPDATE"),
    ),
    "medication_inventory": (
        f"school_id = ANY ({MY_SCHOOLS}) OR student_id IN {MY_STUDENTS}",
        ("SELECT", "INSERT", "UPDATE"),
    ),
    "inventory_adjustments": (f"inventory_id IN {MY_LOTS}", ("SELECT", "INSERT")),
}
REFERENCE_TABLES = ("schools", "school_closures", "medications", "medication_packages")

SD_FUNCTIONS = (
    "medapp_actor()",
    "medapp_my_user_id()",
    "medapp_my_role()",
    "medapp_my_schools()",
    "medapp_sees_all_stock()",
    "medapp_audit_school(text, text, jsonb, jsonb)",
    "medapp_log_read(text, uuid)",
    "medapp_refresh_inventory_alerts()",
)
TRIGGER_FUNCTIONS = (
    "medapp_audit()",
    "medapp_audit_log_immutable()",
    "medapp_check_stock_ledger()",
)
HELPER_FUNCTIONS = ("medapp_audit_row(jsonb)", "medapp_audit_key(jsonb)")


def create_roles_sql(names: Sequence[str]) -> str:
    """Create NOLOGIN roles that do not exist yet, race-safe: a concurrent session creating the
    same role makes ours fail with duplicate_object or unique_violation (pg_authid's name
    index) once it commits — both mean "it exists now"."""
    roles = ", ".join(f"'{r}'" for r in names)
    return f"""
        DO $$
        DECLARE r text;
        BEGIN
          FOREACH r IN ARRAY ARRAY[{roles}]::text[] LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
              BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
              EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
              END;
            END IF;
          END LOOP;
        END $$;
        """


def _role_case(column: str, pairs: Sequence[tuple[str, str]]) -> str:
    whens = " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in pairs)
    return f"CASE {column} {whens} ELSE {column} END"


def upgrade() -> None:
    op.execute(create_roles_sql(GROUPS))

    # users: new role values, password hash, memberships.
    op.drop_constraint(op.f("ck_users_role_known"), "users", type_="check")
    op.execute(
        "UPDATE users SET role = "
        + _role_case(
            "role",
            (
                ("AIDE", "NURSE"),
                ("ADMIN", "DISTRICT_ADMIN"),
                ("VIEWER", "AUDITOR"),
            ),
        )
    )
    op.create_check_constraint(
        op.f("ck_users_role_known"),
        "users",
        "role IN (" + ", ".join(f"'{r}'" for r in NEW_ROLES) + ")",
    )
    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))

    op.create_table(
        "user_schools",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_schools_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_user_schools_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("user_id", "school_id", name=op.f("pk_user_schools")),
    )
    op.create_index("ix_user_schools_school_id", "user_schools", ["school_id"])
    op.execute(
        "INSERT INTO user_schools (user_id, school_id) "
        "SELECT id, school_id FROM users WHERE school_id IS NOT NULL"
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("row_id", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("old_row", postgresql.JSONB(), nullable=True),
        sa.Column("new_row", postgresql.JSONB(), nullable=True),
        sa.CheckConstraint(
            "action IN ('INSERT', 'UPDATE', 'DELETE', 'READ')",
            name=op.f("ck_audit_log_action_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_table_row", "audit_log", ["table_name", "row_id"])
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])

    op.execute(IDENTITY_FUNCTIONS)
    op.execute(AUDIT_FUNCTIONS)
    op.execute(LEDGER_FUNCTION)
    op.execute(ALERTS_VISIBLE_VIEW)

    # Functions: nobody but the groups may call the SECURITY DEFINER ones.
    for fn in SD_FUNCTIONS + TRIGGER_FUNCTIONS + HELPER_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    for fn in SD_FUNCTIONS + HELPER_FUNCTIONS:
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {EVERYONE}")

    # Audit triggers (one per event: transition tables allow one event per trigger).
    for table in AUDITED:
        op.execute(
            f"CREATE TRIGGER {table}_audit_insert AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION medapp_audit()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_audit_update AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION medapp_audit()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_audit_delete AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION medapp_audit()"
        )
    op.execute(
        "CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION medapp_audit_log_immutable()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION medapp_audit_log_immutable()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER medication_inventory_ledger "
        "AFTER UPDATE OF quantity ON medication_inventory "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "WHEN (OLD.quantity IS DISTINCT FROM NEW.quantity) "
        "EXECUTE FUNCTION medapp_check_stock_ledger()"
    )

    # Privileges. Start from nothing for the groups (a database re-migrated after a downgrade
    # must not keep grants from before).
    for group in GROUPS:
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {group}")
    op.execute("REVOKE ALL ON medication_inventory_alerts FROM PUBLIC")
    op.execute(f"GRANT SELECT ON alembic_version TO {EVERYONE}")
    for table in REFERENCE_TABLES:
        op.execute(f"GRANT SELECT ON {table} TO {EVERYONE}")
    op.execute(
        f"GRANT INSERT, UPDATE ON schools, school_closures, medications, medication_packages "
        f"TO {ADMIN}"
    )
    op.execute(f"GRANT DELETE ON school_closures TO {ADMIN}")
    # Hand-added formulary items ("Add medication" at the desk: OTC products the FDA file lacks).
    op.execute(f"GRANT INSERT ON medications, medication_packages TO {CLINICAL}")
    cols = ", ".join(USER_COLUMNS_READABLE)
    op.execute(f"GRANT SELECT ({cols}) ON users TO {EVERYONE}")
    op.execute(f"GRANT INSERT, UPDATE ON users TO {ADMIN}")  # password_hash: write-only
    op.execute(f"GRANT SELECT ON user_schools TO {EVERYONE}")
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON user_schools TO {ADMIN}")
    op.execute(f"GRANT SELECT ON audit_log TO {LEAD}, {AUDITOR}")
    op.execute(f"GRANT SELECT ON medication_inventory_alerts_visible TO {CLINICAL}, {AUDITOR}")

    # Row-level security on student data.
    for table, (predicate, commands) in RLS_TABLES.items():
        op.execute(f"GRANT {', '.join(commands)} ON {table} TO {CLINICAL}")
        op.execute(f"GRANT SELECT ON {table} TO {AUDITOR}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_auditor_read ON {table} FOR SELECT TO {AUDITOR} USING (true)"
        )
        for command in commands:
            clause = {
                "SELECT": f"USING ({predicate})",
                "INSERT": f"WITH CHECK ({predicate})",
                "UPDATE": f"USING ({predicate}) WITH CHECK ({predicate})",
            }[command]
            op.execute(
                f"CREATE POLICY {table}_school_{command.lower()} ON {table} "
                f"FOR {command} TO {CLINICAL} {clause}"
            )
    op.execute("ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY audit_log_auditor_read ON audit_log FOR SELECT TO {AUDITOR} USING (true)"
    )
    op.execute(
        f"CREATE POLICY audit_log_lead_read ON audit_log FOR SELECT TO {LEAD} "
        f"USING (public.medapp_audit_school(table_name, row_id, old_row, new_row) "
        f"= ANY ({MY_SCHOOLS}))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS audit_log_auditor_read ON audit_log")
    op.execute("DROP POLICY IF EXISTS audit_log_lead_read ON audit_log")
    for table, (_predicate, commands) in RLS_TABLES.items():
        op.execute(f"DROP POLICY IF EXISTS {table}_auditor_read ON {table}")
        for command in commands:
            op.execute(f"DROP POLICY IF EXISTS {table}_school_{command.lower()} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    # The group roles stay (global to the server, maybe used by other databases): take back
    # everything they were given here.
    for group in GROUPS:
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {group}")
    op.execute("DROP VIEW IF EXISTS medication_inventory_alerts_visible")
    op.execute("DROP TRIGGER IF EXISTS medication_inventory_ledger ON medication_inventory")
    for table in AUDITED:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_audit_{event} ON {table}")
    op.drop_index("ix_audit_log_occurred_at", table_name="audit_log")
    op.drop_index("ix_audit_log_table_row", table_name="audit_log")
    op.drop_table("audit_log")
    for fn in SD_FUNCTIONS + TRIGGER_FUNCTIONS + HELPER_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.drop_index("ix_user_schools_school_id", table_name="user_schools")
    op.drop_table("user_schools")
    op.drop_column("users", "password_hash")
    op.drop_constraint(op.f("ck_users_role_known"), "users", type_="check")
    op.execute(
        "UPDATE users SET role = "
        + _role_case(
            "role",
            (
                ("LEAD_NURSE", "NURSE"),
                ("DISTRICT_ADMIN", "ADMIN"),
                ("AUDITOR", "VIEWER"),
            ),
        )
    )
    op.create_check_constraint(
        op.f("ck_users_role_known"),
        "users",
        "role IN (" + ", ".join(f"'{r}'" for r in OLD_ROLES) + ")",
    )
