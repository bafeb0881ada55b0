"""SQLAlchemy 2 models of the district schema (table and column names as the district has them).

The schema is created only by Alembic migrations (``migrations/``); these classes describe it for
queries, and a test proves the two agree. Choices worth knowing:

* UUID primary keys everywhere; ids of records a client creates (dose logs) come from the client
  so an offline resend or a retry is an idempotent ``INSERT … ON CONFLICT DO NOTHING``.
* Enumerations are ``text`` + ``CHECK``: adding a value is a one-line migration, no type dance.
* Clinical records (dose logs, inventory adjustments) are append-only, enforced by triggers in
  the migration: a correction is a new row that supersedes the old one.
* The double-dosing guard lives in the database: a partial unique index allows one current
  GIVEN per scheduled dose, so two PCs racing cannot both record it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

USER_ROLES = ("NURSE", "LEAD_NURSE", "DISTRICT_ADMIN", "AUDITOR")  # medapp.services.desk.Role
AUDIT_ACTIONS = ("INSERT", "UPDATE", "DELETE", "READ")
ALLERGY_SEVERITIES = ("MILD", "MODERATE", "SEVERE", "LIFE_THREATENING")
LOG_STATUSES = ("GIVEN", "NOT_GIVEN", "ENTERED_IN_ERROR", "MISSED")  # MISSED: 0006
#: Why a log superseded its original (``medication_logs.correction_kind``, migration 0004).
CORRECTION_KINDS = (
    "ENTERED_IN_ERROR",
    "WRONG_TIME",
    "WRONG_DOSE",
    "WRONG_STATUS",
    "GIVEN_AFTER_NOT_GIVEN",
    "DOCUMENTED_AFTER_MISSED",  # 0006: a GIVEN/NOT_GIVEN written after the end-of-day close
)
NOT_GIVEN_REASONS = ("REFUSED", "ABSENT", "HELD", "NO_SUPPLY", "PARENT_CALLED", "OTHER")
INCIDENT_TYPES = ("ADVERSE_REACTION", "MEDICATION_ERROR", "INJURY", "ILLNESS", "OTHER")
DEA_SCHEDULES = ("CI", "CII", "CIII", "CIV", "CV")
MEDICATION_SOURCES = ("FDA", "MANUAL")
MEDICATION_SEARCH_KEYS_SQL = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(medapp_search_key(name), '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(medapp_search_key(generic_name), '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(medapp_search_key(strength || ' ' || dosage_form || ' ' || coalesce(route, '')), '')), 'C') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(medapp_search_key(manufacturer), '')), 'D')"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        Uuid, primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )


def _created_at() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated_at() -> Mapped[dt.datetime]:
    return mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class School(Base):
    __tablename__ = "schools"

    id: Mapped[uuid.UUID] = _uuid_pk()
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    timezone: Mapped[str] = mapped_column(
        String(64), nullable=False, server_default="America/New_York"
    )
    day_start: Mapped[dt.time] = mapped_column(Time, nullable=False, server_default="08:00")
    day_end: Mapped[dt.time] = mapped_column(Time, nullable=False, server_default="15:00")
    lunch_time: Mapped[dt.time] = mapped_column(Time, nullable=False, server_default="12:00")
    dose_window_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="60")
    school_year_end: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("day_end > day_start", name="school_day_order"),
        CheckConstraint("dose_window_minutes BETWEEN 1 AND 240", name="dose_window_range"),
    )


class SchoolClosure(Base):
    """Days a school is closed (holidays, breaks, snow days): no school doses are due."""

    __tablename__ = "school_closures"

    id: Mapped[uuid.UUID] = _uuid_pk()
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), nullable=False)
    closed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("school_id", "closed_on", name="uq_school_closures_day"),)


class User(Base):
    """A person who signs in. ``username`` is her PostgreSQL role name (a member of the group
    role ``medapp_<role>``, migration 0005); ``school_id`` is her home school for display, her
    schools are ``user_schools``."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = _uuid_pk()
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    username: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False, server_default="NURSE")
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _created_at()
    # argon2id hash, private single-PC database only (NULL on a district server: SCRAM there).
    # Deferred: application roles may not read the column, so a plain select(User) leaves it out.
    password_hash: Mapped[str | None] = mapped_column(Text, deferred=True)

    __table_args__ = (CheckConstraint(_in("role", USER_ROLES), name="role_known"),)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class UserSchool(Base):
    """The schools whose students a user works with (row-level security keys on these)."""

    __tablename__ = "user_schools"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), primary_key=True)

    __table_args__ = (Index("ix_user_schools_school_id", "school_id"),)


class AuditLog(Base):
    """Append-only history written by triggers (migration 0005): every insert, update and delete
    on the clinical tables, users and schools, and READ rows for opened records. ``actor`` is the
    PostgreSQL role that acted (``medapp_actor()``); application roles cannot change it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    table_name: Mapped[str] = mapped_column(Text, nullable=False)
    row_id: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    old_row: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    new_row: Mapped[dict[str, object] | None] = mapped_column(JSONB)

    __table_args__ = (
        CheckConstraint(_in("action", AUDIT_ACTIONS), name="action_known"),
        Index("ix_audit_log_table_row", "table_name", "row_id"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
    )


class Student(Base):
    __tablename__ = "students"

    id: Mapped[uuid.UUID] = _uuid_pk()
    student_number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    grade: Mapped[str] = mapped_column(String(8), nullable=False)
    date_of_birth: Mapped[dt.date] = mapped_column(Date, nullable=False)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), nullable=False)
    nurse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _updated_at()

    allergies: Mapped[list[Allergy]] = relationship(
        back_populates="student", foreign_keys="Allergy.student_id"
    )

    __table_args__ = (
        Index("ix_students_school_name", "school_id", "last_name", "first_name"),
        Index("ix_students_nurse_id", "nurse_id"),
    )


class Allergy(Base):
    __tablename__ = "allergies"

    id: Mapped[uuid.UUID] = _uuid_pk()
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), nullable=False)
    allergen: Mapped[str] = mapped_column(String(200), nullable=False)
    medication_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("medications.id"))
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    reaction: Mapped[str | None] = mapped_column(Text)
    treatment: Mapped[str | None] = mapped_column(Text)
    verified: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    verified_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _created_at()

    student: Mapped[Student] = relationship(back_populates="allergies", foreign_keys=[student_id])

    __table_args__ = (
        CheckConstraint(_in("severity", ALLERGY_SEVERITIES), name="severity_known"),
        CheckConstraint(
            "NOT verified OR (verified_by IS NOT NULL AND verified_at IS NOT NULL)",
            name="verified_has_who_when",
        ),
        Index("ix_allergies_student_id", "student_id"),
    )


class StudentCondition(Base):
    """A health condition on the student's page (asthma, diabetes …) with its care-plan note
    (0008_student_page; the student's school's row-level security, audited)."""

    __tablename__ = "student_conditions"

    id: Mapped[uuid.UUID] = _uuid_pk()
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    care_plan: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        Index("ix_student_conditions_student_id", "student_id"),
    )


class EmergencyContact(Base):
    """Who to call about a student, in order (``priority`` 1 first; 0008_student_page)."""

    __tablename__ = "emergency_contacts"

    id: Mapped[uuid.UUID] = _uuid_pk()
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    relationship: Mapped[str] = mapped_column(String(60), nullable=False)
    phone: Mapped[str] = mapped_column(String(40), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    notes: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint("length(btrim(phone)) > 0", name="phone_not_blank"),
        CheckConstraint("priority > 0", name="priority_positive"),
        Index("ix_emergency_contacts_student_id", "student_id", "priority"),
    )


class Medication(Base):
    __tablename__ = "medications"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    generic_name: Mapped[str | None] = mapped_column(String(1000))
    dosage_form: Mapped[str] = mapped_column(String(120), nullable=False)
    strength: Mapped[str] = mapped_column(String(300), nullable=False, server_default="")
    route: Mapped[str | None] = mapped_column(String(200))
    manufacturer: Mapped[str | None] = mapped_column(String(300))
    ndc: Mapped[str | None] = mapped_column(String(20), unique=True)
    is_controlled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    dea_schedule: Mapped[str | None] = mapped_column(String(4))
    is_otc: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || "
            "coalesce(generic_name, '') || ' ' || coalesce(manufacturer, ''))",
            persisted=True,
        ),
    )
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _updated_at()
    # Formulary (migration 0002). The *_key columns are medapp_search_key(): lower-case,
    # accent- and punctuation-free words (medapp.formulary.text.search_key is the same in
    # Python); "C" collation so LIKE 'prefix%' and ORDER BY use their btree indexes.
    name_key: Mapped[str | None] = mapped_column(
        Text(collation="C"), Computed("medapp_search_key(name)", persisted=True)
    )
    generic_key: Mapped[str | None] = mapped_column(
        Text(collation="C"), Computed("medapp_search_key(generic_name)", persisted=True)
    )
    ndc_digits: Mapped[str | None] = mapped_column(
        String(20, collation="C"), Computed("replace(ndc, '-', '')", persisted=True)
    )
    # Words of name (weight A), generic name (B), strength + form + route (C), manufacturer (D).
    search_keys: Mapped[str | None] = mapped_column(
        TSVECTOR, Computed(MEDICATION_SEARCH_KEYS_SQL, persisted=True)
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    marketing_end: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(16))  # FDA (imported) | MANUAL
    updated_from_file: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        CheckConstraint(
            f"dea_schedule IS NULL OR {_in('dea_schedule', DEA_SCHEDULES)}",
            name="dea_schedule_known",
        ),
        CheckConstraint("dea_schedule IS NULL OR is_controlled", name="scheduled_is_controlled"),
        Index("medications_search_idx", "search_vector", postgresql_using="gin"),
        CheckConstraint(
            f"source IS NULL OR {_in('source', MEDICATION_SOURCES)}", name="source_known"
        ),
        Index("ix_medications_name_key", "name_key"),
        Index("ix_medications_generic_key", "generic_key"),
        Index("ix_medications_ndc_digits", "ndc_digits"),
        # fastupdate off: no pending list to scan after a bulk import (the formulary is read
        # far more often than written).
        Index(
            "medications_search_keys_idx",
            "search_keys",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
    )


# Prefix (typeahead) search on lower(name) needs text_pattern_ops to use the index with LIKE 'x%'.
Index(
    "ix_medications_lower_name",
    func.lower(Medication.name).label("name_lower"),
    postgresql_ops={"name_lower": "text_pattern_ops"},
)


class MedicationGroup(Base):
    """One search result's worth of products: the same name, strength and dosage form from any
    labeler (migration 0012). Derived data the server keeps: triggers on ``medications`` rebuild
    a name's groups whenever a statement touches its products; nothing else writes it. Search
    ranks these rows (about 12 times fewer than products) instead of grouping per keystroke."""

    __tablename__ = "medication_groups"

    #: the product shown for the group: an active one first, then a mixed-case name, lowest NDC
    head_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("medications.id"), primary_key=True)
    name_key: Mapped[str] = mapped_column(Text(collation="C"), nullable=False)
    strength: Mapped[str] = mapped_column(String(300), nullable=False)
    dosage_form: Mapped[str] = mapped_column(String(120), nullable=False)
    generic_key: Mapped[str | None] = mapped_column(Text(collation="C"))
    #: the representative's NDC, flag and marketing end (ranking reads them for every hit)
    ndc: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    marketing_end: Mapped[dt.date | None] = mapped_column(Date)
    members: Mapped[int] = mapped_column(Integer, nullable=False)  # products in the group
    popularity: Mapped[int] = mapped_column(Integer, nullable=False)  # products with the name
    #: the union of the members' search words, weights kept (name A, generic B, …)
    keys: Mapped[str] = mapped_column(TSVECTOR, nullable=False)

    __table_args__ = (
        UniqueConstraint("name_key", "strength", "dosage_form", name="uq_medication_groups_drug"),
        Index(
            "medication_groups_keys_idx",
            "keys",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
    )


class MedicationPackage(Base):
    """One package of a formulary product (box, bottle, vial) and the NDC on its barcode.

    ``ndc`` is the dashed 10-digit code as printed (4-4-2 / 5-3-2 / 5-4-1); ``ndc11`` (5-4-2,
    unique) is the import key. ``ndc10`` is not unique by itself across formats, so a bare
    10-digit scan is looked up here rather than guessed (medapp.formulary.ndc).
    """

    __tablename__ = "medication_packages"

    id: Mapped[uuid.UUID] = _uuid_pk()
    medication_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("medications.id"), nullable=False)
    ndc: Mapped[str] = mapped_column(String(14), nullable=False)
    ndc10: Mapped[str] = mapped_column(String(10, collation="C"), nullable=False)
    ndc11: Mapped[str] = mapped_column(String(11, collation="C"), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(16))
    updated_from_file: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _updated_at()

    medication: Mapped[Medication] = relationship()

    __table_args__ = (
        CheckConstraint("ndc10 ~ '^[0-9]{10}$'", name="ndc10_digits"),
        CheckConstraint("ndc11 ~ '^[0-9]{11}$'", name="ndc11_digits"),
        CheckConstraint(
            f"source IS NULL OR {_in('source', MEDICATION_SOURCES)}", name="source_known"
        ),
        Index("ix_medication_packages_medication_id", "medication_id"),
        Index("ix_medication_packages_ndc10", "ndc10"),
    )


class StudentMedication(Base):
    """A prescription/order for one student, with the parent authorization that allows it.

    ``administration_times`` (explicit school times) win over times parsed from ``frequency``.
    A change of times or frequency is a new row that ``supersedes_id`` the old one, so earlier
    doses keep being judged against the schedule that was in force then.
    """

    __tablename__ = "student_medications"

    id: Mapped[uuid.UUID] = _uuid_pk()
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), nullable=False)
    #: the student's school, kept by the server (migration 0011: a trigger sets it on insert and
    #: follows a transfer); row-level security finds a school's orders through it by index.
    #: Never set by the client (the trigger overwrites it).
    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id"), nullable=False, index=True, server_default=FetchedValue()
    )
    medication_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("medications.id"), nullable=False)
    dosage: Mapped[str] = mapped_column(String(100), nullable=False)
    frequency: Mapped[str] = mapped_column(String(300), nullable=False)
    route: Mapped[str] = mapped_column(String(60), nullable=False)
    instructions: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    prescribed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    administration_times: Mapped[list[dt.time] | None] = mapped_column(ARRAY(Time))
    is_prn: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    prn_min_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    prn_max_per_day: Mapped[int | None] = mapped_column(Integer)
    authorization_expires: Mapped[dt.date | None] = mapped_column(Date)
    parent_consent_on: Mapped[dt.date | None] = mapped_column(Date)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("student_medications.id"), unique=True
    )
    schedule_effective_from: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _updated_at()

    student: Mapped[Student] = relationship()
    medication: Mapped[Medication] = relationship()

    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        CheckConstraint(
            "prn_min_interval_minutes IS NULL OR prn_min_interval_minutes > 0",
            name="prn_interval_positive",
        ),
        CheckConstraint("prn_max_per_day IS NULL OR prn_max_per_day > 0", name="prn_max_positive"),
        CheckConstraint("length(btrim(frequency)) > 0", name="frequency_not_blank"),
        Index(
            "student_medications_active_idx",
            "is_active",
            "start_date",
            "end_date",
            postgresql_where=text("is_active = true"),
        ),
        Index("ix_student_medications_student_active", "student_id", "is_active"),
        Index("ix_student_medications_medication_id", "medication_id"),
    )


class MedicationLog(Base):
    """One dose event: GIVEN, NOT_GIVEN (with a reason), ENTERED_IN_ERROR (a correction), or
    MISSED (written by the end-of-day close for a school dose nobody documented; 0006).

    Append-only (trigger): the only permitted update stamps ``superseded_at``/``superseded_by_id``
    on a row that a newer row corrects — in the same transaction, for the same order and dose
    (deferred constraint triggers, migration 0004). A second current GIVEN whose dose tag lies
    within the school's dose window of another is refused by ``medapp_one_given_per_dose``.
    """

    __tablename__ = "medication_logs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # always client-generated
    student_medication_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("student_medications.id"), nullable=False
    )
    nurse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    dosage_given: Mapped[str | None] = mapped_column(String(100))
    time_given: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    not_given_reason: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    side_effects: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    witness_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    inventory_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("medication_inventory.id"))
    quantity_used: Mapped[int | None] = mapped_column(Integer)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("medication_logs.id"), unique=True
    )
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Deferred (0004): a correction stamps the original before inserting the replacement.
    superseded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("medication_logs.id", deferrable=True, initially="DEFERRED")
    )
    correction_kind: Mapped[str | None] = mapped_column(String(30))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    recorded_offline: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    #: why an as-needed dose was given ("headache"; 0008_student_page), written with the dose
    complaint: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _created_at()

    nurse: Mapped[User] = relationship(foreign_keys=[nurse_id])

    __table_args__ = (
        CheckConstraint(_in("status", LOG_STATUSES), name="status_known"),
        CheckConstraint(
            "(status = 'NOT_GIVEN') = (not_given_reason IS NOT NULL)", name="not_given_has_reason"
        ),
        CheckConstraint(
            f"not_given_reason IS NULL OR {_in('not_given_reason', NOT_GIVEN_REASONS)}",
            name="reason_known",
        ),
        CheckConstraint(
            "not_given_reason IS DISTINCT FROM 'OTHER' OR length(btrim(coalesce(notes, ''))) > 0",
            name="other_reason_has_notes",
        ),
        CheckConstraint(
            "status <> 'ENTERED_IN_ERROR' OR supersedes_id IS NOT NULL", name="error_supersedes"
        ),
        CheckConstraint(
            "quantity_used IS NULL OR quantity_used > 0", name="quantity_used_positive"
        ),
        CheckConstraint(
            "status <> 'MISSED' OR (scheduled_for IS NOT NULL AND inventory_id IS NULL "
            "AND length(btrim(coalesce(notes, ''))) > 0)",
            name="missed_has_dose_and_note",
        ),
        CheckConstraint(
            "(superseded_at IS NULL) = (superseded_by_id IS NULL)", name="superseded_pair"
        ),
        CheckConstraint(
            "complaint IS NULL OR length(btrim(complaint)) > 0", name="complaint_not_blank"
        ),
        CheckConstraint(
            f"correction_kind IS NULL OR {_in('correction_kind', CORRECTION_KINDS)}",
            name="correction_kind_known",
        ),
        CheckConstraint(
            "correction_kind IS NULL OR supersedes_id IS NOT NULL", name="correction_has_original"
        ),
        Index("medication_logs_time_student_idx", "student_medication_id", text("time_given DESC")),
        Index("ix_medication_logs_time_given", "time_given"),
        Index("ix_medication_logs_nurse_id", "nurse_id"),
        Index(
            "uq_medication_logs_one_given_per_dose",
            "student_medication_id",
            "scheduled_for",
            unique=True,
            postgresql_where=text(
                "status = 'GIVEN' AND scheduled_for IS NOT NULL AND superseded_at IS NULL"
            ),
        ),
        # 0006: the end-of-day close writes at most one MISSED record per scheduled dose.
        Index(
            "uq_medication_logs_one_missed_per_dose",
            "student_medication_id",
            "scheduled_for",
            unique=True,
            postgresql_where=text("status = 'MISSED'"),
        ),
    )


class MedicationInventory(Base):
    """A lot of a medication on a school office shelf (or a student's own supply)."""

    __tablename__ = "medication_inventory"

    id: Mapped[uuid.UUID] = _uuid_pk()
    medication_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("medications.id"), nullable=False)
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id"))
    student_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("students.id"))
    batch_number: Mapped[str] = mapped_column(String(64), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    reorder_level: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    expiration_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    created_at: Mapped[dt.datetime] = _created_at()
    updated_at: Mapped[dt.datetime] = _updated_at()

    medication: Mapped[Medication] = relationship()

    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
        Index("inventory_expiration_idx", "expiration_date", postgresql_where=text("quantity > 0")),
        Index("inventory_stock_idx", "medication_id", "quantity"),
        Index("ix_medication_inventory_school_id", "school_id"),
    )


class InventoryAdjustment(Base):
    """Every change of a lot's quantity, with who and why (append-only; controlled counts witnessed)."""

    __tablename__ = "inventory_adjustments"

    id: Mapped[uuid.UUID] = _uuid_pk()
    inventory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("medication_inventory.id"), nullable=False
    )
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity_after: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(300), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    witness_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    medication_log_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("medication_logs.id"))
    created_at: Mapped[dt.datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        CheckConstraint("quantity_after >= 0", name="quantity_after_not_negative"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_not_blank"),
        CheckConstraint(
            "witness_id IS NULL OR witness_id <> user_id", name="witness_is_other_person"
        ),
        Index("ix_inventory_adjustments_inventory_id", "inventory_id", "created_at"),
    )


class IncidentReport(Base):
    __tablename__ = "incident_reports"

    id: Mapped[uuid.UUID] = _uuid_pk()
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), nullable=False)
    reported_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(24), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    actions_taken: Mapped[str | None] = mapped_column(Text)
    parent_notified: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    follow_up_required: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    follow_up_notes: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    medication_log_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("medication_logs.id"))
    created_at: Mapped[dt.datetime] = _created_at()

    __table_args__ = (
        CheckConstraint(_in("type", INCIDENT_TYPES), name="type_known"),
        CheckConstraint(_in("severity", ALLERGY_SEVERITIES), name="severity_known"),
        CheckConstraint("length(btrim(description)) > 0", name="description_not_blank"),
        Index("ix_incident_reports_student_id", "student_id", "occurred_at"),
    )


class AdverseReaction(Base):
    """A reaction to a medication, written in one transaction with its incident report and, when
    SEVERE or LIFE_THREATENING, the allergy that blocks the medication from then on."""

    __tablename__ = "adverse_reactions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # client-generated: retry-safe
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), nullable=False)
    medication_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("medications.id"), nullable=False)
    student_medication_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("student_medications.id")
    )
    medication_log_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("medication_logs.id"))
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    reaction: Mapped[str] = mapped_column(Text, nullable=False)
    action_taken: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    reported_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    incident_report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incident_reports.id"), nullable=False
    )
    allergy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("allergies.id"))
    created_at: Mapped[dt.datetime] = _created_at()

    __table_args__ = (
        CheckConstraint(_in("severity", ALLERGY_SEVERITIES), name="severity_known"),
        CheckConstraint(
            "severity NOT IN ('SEVERE', 'LIFE_THREATENING') OR allergy_id IS NOT NULL",
            name="severe_records_allergy",
        ),
        CheckConstraint("length(btrim(reaction)) > 0", name="reaction_not_blank"),
        Index("ix_adverse_reactions_student_id", "student_id", "occurred_at"),
    )


FIELD_TRIP_DIRECTIONS = ("OUT", "BACK")


class FieldTripSignout(Base):
    """Doses of a student's own supply counted out to a teacher for a field trip (``OUT``) and
    counted back afterwards (``BACK``, naming its ``OUT``), with both names (migration
    0009_supplies_field_trips). Append-only (trigger); the lot's count moves through the ledger
    line named in ``adjustment_id``."""

    __tablename__ = "field_trip_signouts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # client-generated
    inventory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("medication_inventory.id"), nullable=False
    )
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), nullable=False)
    direction: Mapped[str] = mapped_column(String(4), nullable=False)
    signout_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("field_trip_signouts.id"), unique=True
    )
    doses: Mapped[int] = mapped_column(Integer, nullable=False)
    given_on_trip: Mapped[int | None] = mapped_column(Integer)
    trip: Mapped[str] = mapped_column(String(200), nullable=False)
    other_person: Mapped[str] = mapped_column(String(200), nullable=False)
    nurse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    adjustment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_adjustments.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint(_in("direction", FIELD_TRIP_DIRECTIONS), name="direction_known"),
        CheckConstraint("(direction = 'OUT') = (signout_id IS NULL)", name="back_names_out"),
        CheckConstraint("(direction = 'BACK') = (given_on_trip IS NOT NULL)", name="given_on_back"),
        CheckConstraint("doses >= 0 AND (direction = 'BACK' OR doses > 0)", name="doses_counted"),
        CheckConstraint("given_on_trip IS NULL OR given_on_trip >= 0", name="given_not_negative"),
        CheckConstraint(
            "length(btrim(other_person)) > 0 AND length(btrim(trip)) > 0",
            name="names_not_blank",
        ),
        Index("ix_field_trip_signouts_student_id", "student_id", "occurred_at"),
        Index("ix_field_trip_signouts_inventory_id", "inventory_id"),
    )


PRN_OUTCOMES = ("RESOLVED", "SENT_HOME", "NO_CHANGE", "OTHER")


class PrnOutcome(Base):
    """What became of an as-needed dose, recorded later (0008_student_page): one per dose, set
    once — a trigger refuses UPDATE and DELETE, as for every clinical record."""

    __tablename__ = "prn_outcomes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # client-generated: retry-safe
    medication_log_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("medication_logs.id"), nullable=False, unique=True
    )
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), nullable=False)
    observed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[dt.datetime] = _created_at()

    __table_args__ = (
        CheckConstraint(_in("outcome", PRN_OUTCOMES), name="outcome_known"),
        CheckConstraint(
            "outcome <> 'OTHER' OR length(btrim(coalesce(note, ''))) > 0", name="other_has_note"
        ),
    )
