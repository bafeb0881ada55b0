"""formulary: package NDCs, search keys without extensions, product status and source

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 06:00:00

* ``medapp_search_key(text)``: lower-case, accent- and punctuation-free words, numbers split
  from letters ("5mL" → "5 ml"), in plain SQL (``translate`` over accented Latin letters)
  because the embedded server has no ``unaccent``.
  medapp.formulary.text.search_key is the same mapping in Python; keep the two identical.
* ``medications``: generated ``name_key`` / ``generic_key`` (btree, "C" collation → LIKE
  'prefix%' and ordered typeahead), ``ndc_digits`` (dash-stripped NDC, btree), ``search_keys``
  (weighted tsvector over the keys: name A, generic B, strength/form/route C, manufacturer D; GIN), plus ``is_active`` (false = no longer in the FDA
  file; rows are never deleted), ``marketing_end``, ``source`` (FDA | MANUAL) and
  ``updated_from_file``.
* ``medication_packages``: package NDC as printed, its 10- and 11-digit forms (11 unique: the
  import key), description, product.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Upper-case ASCII and every Latin-1 / Latin Extended-A/B letter whose NFKD form is one ASCII
# letter plus accents → that letter in lower case (medapp.formulary.text.KEY_FROM / KEY_TO).
KEY_FROM = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥ"
    "ĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſƠơƯưǍǎǏǐǑǒǓǔǕǖ"
    "ǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
)
KEY_TO = (
    "abcdefghijklmnopqrstuvwxyz"
    "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghh"
    "iiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzsoouuaaiioouuuuuu"
    "uuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyy"
)
assert len(KEY_FROM) == len(KEY_TO)

SEARCH_KEY_FUNCTION = f"""
CREATE FUNCTION medapp_search_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(regexp_replace(regexp_replace(
           translate(value, '{KEY_FROM}', '{KEY_TO}'),
           '([0-9])([a-z])', '\\1 \\2', 'g'),
           '([a-z])([0-9])', '\\1 \\2', 'g'),
           '[^a-z0-9]+', ' ', 'g'))
$$;
"""

SEARCH_KEYS_SQL = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(medapp_search_key(name), '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(medapp_search_key(generic_name), '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(medapp_search_key(strength || ' ' || dosage_form || ' ' || coalesce(route, '')), '')), 'C') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(medapp_search_key(manufacturer), '')), 'D')"
)


def upgrade() -> None:
    op.execute(SEARCH_KEY_FUNCTION)
    op.add_column('medications', sa.Column('name_key', sa.Text(collation='C'), sa.Computed('medapp_search_key(name)', persisted=True), nullable=True))
    op.add_column('medications', sa.Column('generic_key', sa.Text(collation='C'), sa.Computed('medapp_search_key(generic_name)', persisted=True), nullable=True))
    op.add_column('medications', sa.Column('ndc_digits', sa.String(length=20, collation='C'), sa.Computed("replace(ndc, '-', '')", persisted=True), nullable=True))
    op.add_column('medications', sa.Column('search_keys', postgresql.TSVECTOR(), sa.Computed(SEARCH_KEYS_SQL, persisted=True), nullable=True))
    op.add_column('medications', sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False))
    op.add_column('medications', sa.Column('marketing_end', sa.Date(), nullable=True))
    op.add_column('medications', sa.Column('source', sa.String(length=16), nullable=True))
    op.add_column('medications', sa.Column('updated_from_file', sa.String(length=300), nullable=True))
    op.create_check_constraint(op.f('ck_medications_source_known'), 'medications', "source IS NULL OR source IN ('FDA', 'MANUAL')")
    op.create_index('ix_medications_name_key', 'medications', ['name_key'], unique=False)
    op.create_index('ix_medications_generic_key', 'medications', ['generic_key'], unique=False)
    op.create_index('ix_medications_ndc_digits', 'medications', ['ndc_digits'], unique=False)
    # fastupdate off: a bulk import leaves no GIN pending list for every search to scan.
    op.create_index('medications_search_keys_idx', 'medications', ['search_keys'], unique=False, postgresql_using='gin', postgresql_with={'fastupdate': 'off'})

    op.create_table('medication_packages',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('medication_id', sa.Uuid(), nullable=False),
    sa.Column('ndc', sa.String(length=14), nullable=False),
    sa.Column('ndc10', sa.String(length=10, collation='C'), nullable=False),
    sa.Column('ndc11', sa.String(length=11, collation='C'), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('updated_from_file', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("ndc10 ~ '^[0-9]{10}$'", name=op.f('ck_medication_packages_ndc10_digits')),
    sa.CheckConstraint("ndc11 ~ '^[0-9]{11}$'", name=op.f('ck_medication_packages_ndc11_digits')),
    sa.CheckConstraint("source IS NULL OR source IN ('FDA', 'MANUAL')", name=op.f('ck_medication_packages_source_known')),
    sa.ForeignKeyConstraint(['medication_id'], ['medications.id'], name=op.f('fk_medication_packages_medication_id_medications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medication_packages')),
    sa.UniqueConstraint('ndc11', name=op.f('uq_medication_packages_ndc11'))
    )
    op.create_index('ix_medication_packages_medication_id', 'medication_packages', ['medication_id'], unique=False)
    op.create_index('ix_medication_packages_ndc10', 'medication_packages', ['ndc10'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_medication_packages_ndc10', table_name='medication_packages')
    op.drop_index('ix_medication_packages_medication_id', table_name='medication_packages')
    op.drop_table('medication_packages')
    op.drop_index('medications_search_keys_idx', table_name='medications', postgresql_using='gin')
    op.drop_index('ix_medications_ndc_digits', table_name='medications')
    op.drop_index('ix_medications_generic_key', table_name='medications')
    op.drop_index('ix_medications_name_key', table_name='medications')
    op.drop_constraint(op.f('ck_medications_source_known'), 'medications', type_='check')
    for column in ('updated_from_file', 'source', 'marketing_end', 'is_active', 'search_keys',
                   'ndc_digits', 'generic_key', 'name_key'):
        op.drop_column('medications', column)
    op.execute("DROP FUNCTION IF EXISTS medapp_search_key(text)")
