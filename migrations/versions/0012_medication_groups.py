"""search reads product groups, kept by the server, instead of grouping products per keystroke

Revision ID: 0012_medication_groups
Revises: 0011_order_school

Why: a search shows one result per drug (name, strength and dosage form), whatever the number of
labelers and repackagers selling it. Grouping at query time meant reading, ranking, sorting and
de-duplicating every matching *product*: ~500 rows for a common name (lisinopril: 507 products,
42 results), ~2,800 for a typed prefix ("hydroc": 61 ms), three quarters of a search's time on
the district formulary (44,318 products).

``medication_groups`` holds one row per group: the representative product shown for it (an active
one first, then a mixed-case name, then the lowest NDC — the rule search used; its NDC, flag and
marketing end are copied for the ranking, which needs them for every hit), the number of
products in it, the products sharing its name (the "how common" tie-break), and the union of
its products' search words with their weights (``medapp_tsvector_union``), under a GIN index.
A search ranks groups (~12 times fewer rows) and joins only the page it shows to ``medications``.

It is derived data, never edited: statement-level triggers on ``medications`` rebuild the groups
of every name an INSERT, UPDATE or DELETE touched (an import: one rebuild per statement; a
product added at the desk: its name's groups), through a SECURITY DEFINER function (a nurse adding
an OTC product cannot write the table herself). Everyone who may read the formulary reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_medication_groups"
down_revision: str | None = "0011_order_school"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVERYONE = "medapp_nurse, medapp_lead_nurse, medapp_district_admin, medapp_auditor"

SCHEMA = """
CREATE AGGREGATE medapp_tsvector_union(tsvector) (
  SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = ''
);

CREATE TABLE medication_groups (
  head_id uuid PRIMARY KEY REFERENCES medications (id),
  name_key text COLLATE "C" NOT NULL,
  strength varchar(300) NOT NULL,
  dosage_form varchar(120) NOT NULL,
  generic_key text COLLATE "C",
  ndc varchar(20),
  is_active boolean NOT NULL,
  marketing_end date,
  members integer NOT NULL,
  popularity integer NOT NULL,
  keys tsvector NOT NULL,
  CONSTRAINT uq_medication_groups_drug UNIQUE (name_key, strength, dosage_form)
);
CREATE INDEX medication_groups_keys_idx ON medication_groups USING gin (keys)
  WITH (fastupdate = off);

-- names: the name keys whose groups to rebuild; NULL rebuilds every group.
CREATE FUNCTION medapp_rebuild_medication_groups(names text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  DELETE FROM public.medication_groups g
   WHERE names IS NULL OR g.name_key = ANY (names);
  INSERT INTO public.medication_groups
         (head_id, name_key, strength, dosage_form, generic_key, ndc, is_active, marketing_end,
          members, popularity, keys)
  SELECT DISTINCT ON (m.name_key, m.strength, m.dosage_form)
         m.id, m.name_key, m.strength, m.dosage_form, m.generic_key, m.ndc, m.is_active,
         m.marketing_end,
         count(*) OVER grp, count(*) OVER (PARTITION BY m.name_key),
         public.medapp_tsvector_union(coalesce(m.search_keys, ''::tsvector)) OVER grp
    FROM public.medications m
   WHERE m.name_key IS NOT NULL AND (names IS NULL OR m.name_key = ANY (names))
  WINDOW grp AS (PARTITION BY m.name_key, m.strength, m.dosage_form)
   ORDER BY m.name_key, m.strength, m.dosage_form,
            (m.is_active AND (m.marketing_end IS NULL OR m.marketing_end >= CURRENT_DATE)) DESC,
            (m.name = upper(m.name)), m.ndc;
END $$;

CREATE FUNCTION medapp_medication_groups_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  names text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT n.name_key) INTO names FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT o.name_key) INTO names FROM old_rows o;
  ELSE
    SELECT array_agg(DISTINCT k) INTO names FROM (
      SELECT n.name_key AS k FROM new_rows n UNION SELECT o.name_key FROM old_rows o) changed;
  END IF;
  names := array_remove(names, NULL);
  IF cardinality(names) > 0 THEN
    -- a whole import at once: rebuilding everything is one pass instead of many lookups
    PERFORM public.medapp_rebuild_medication_groups(
      CASE WHEN cardinality(names) > 2000 THEN NULL ELSE names END);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER medications_groups_insert AFTER INSERT ON medications
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION medapp_medication_groups_follow();
CREATE TRIGGER medications_groups_update AFTER UPDATE ON medications
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION medapp_medication_groups_follow();
CREATE TRIGGER medications_groups_delete AFTER DELETE ON medications
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION medapp_medication_groups_follow();
"""


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute("REVOKE ALL ON FUNCTION medapp_rebuild_medication_groups(text[]) FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION medapp_medication_groups_follow() FROM PUBLIC")
    op.execute("REVOKE ALL ON medication_groups FROM PUBLIC")
    op.execute(f"GRANT SELECT ON medication_groups TO {EVERYONE}")
    op.execute("SELECT medapp_rebuild_medication_groups(NULL)")
    op.execute("ANALYZE medication_groups")


def downgrade() -> None:
    for action in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS medications_groups_{action} ON medications")
    op.execute("DROP FUNCTION IF EXISTS medapp_medication_groups_follow()")
    op.execute("DROP FUNCTION IF EXISTS medapp_rebuild_medication_groups(text[])")
    op.execute("DROP TABLE IF EXISTS medication_groups")
    op.execute("DROP AGGREGATE IF EXISTS medapp_tsvector_union(tsvector)")
