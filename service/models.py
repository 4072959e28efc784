"""Storage model (SQLAlchemy 2.0, typed). Migrations: service/migrations."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | operator | reviewer | viewer
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # a disabled account signs in no more
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A signed-in browser: its cookie holds a random id of its own (never the API token), stored here only
    as its SHA-256; ended by logout or expiry. ``csrf_hash``: the per-session token every write must echo."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Round(Base):
    __tablename__ = "rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    template: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # open | closed: a closed round takes no uploads and no decisions, so its figures stay as published
    state: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    # the agencies surveyed and the sample each should return: {"SNV": 400, ...} (None: not planned)
    targets: Mapped[object | None] = mapped_column(JSON, nullable=True)
    # quality control (service.quality): the share of answers the engine accepted by itself that is checked blind
    # (None: the default, 1 in 200), the upper bound of the error rate's 95% interval above which publishing is
    # warned about (None: 0.5%), the answers already drawn from (ids up to qc_upto), and the minimum n for an
    # agency to be ranked (None: no minimum)
    qc_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    qc_limit: Mapped[float | None] = mapped_column(Float, nullable=True)
    qc_upto: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    min_sample: Mapped[int | None] = mapped_column(Integer, nullable=True)


AGENCY_KINDS = ("tinh", "so", "nganh", "huyen", "xa", "khac")  # province, department, sector, district, commune, other


class Agency(Base):
    """An agency surveyed: a province's departments and sectors, its districts and their communes."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20), default="khac", server_default="khac")
    parent: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the parent agency's code (tỉnh → sở, huyện → xã)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class PrintRun(Base):
    """Sheets printed for a round and an agency: serials ``first_serial`` .. ``first_serial + count - 1``.

    A returned sheet's agency is known from its serial even when its QR code carries none, a serial the
    round never printed is flagged, and returned / printed is the agency's response rate."""

    __tablename__ = "print_runs"
    __table_args__ = (UniqueConstraint("round_id", "first_serial", name="uq_print_run_start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    first_serial: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Batch(Base):
    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# files whose pages are (or will be) counted: one per content hash and round, enforced by the database
LIVE_FILE = "status NOT IN ('duplicate', 'retried')"


class UploadedFile(Base):
    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_round_sha", "round_id", "sha256"),
        Index("uq_files_round_sha_live", "round_id", "sha256", unique=True,
              sqlite_where=text(LIVE_FILE), postgresql_where=text(LIVE_FILE)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    filename: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # pending | split | duplicate (same bytes as a live file) | error | retried (every page failed; uploaded again)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("files.id"), nullable=True)


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("file_id", "index", name="uq_page_file_index"),
        Index("ix_pages_status", "status"),
        Index("ix_pages_round_sheet", "round_id", "template", "sheet", "page_no"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"))
    index: Mapped[int] = mapped_column(Integer)
    image_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    aligned_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # queued | processing | done (read: ok/unrecognized) | error | rejected (not a questionnaire)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    result_status: Mapped[str | None] = mapped_column(String(20), nullable=True)  # ok | unrecognized | error
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    template: Mapped[str | None] = mapped_column(String(80), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sheet: Mapped[str | None] = mapped_column(String(20), nullable=True)  # the serial printed on the sheet
    # the respondent the page belongs to: the serial, or "000001-2" for a second sheet a reviewer settled as
    # different from an earlier one with the same serial (two print runs); answers are grouped by it
    respondent: Mapped[str | None] = mapped_column(String(24), nullable=True)
    page_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    channel: Mapped[str] = mapped_column(String(10), default="paper", server_default="paper")  # paper | online (imported)
    alignment_quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    identified_by: Mapped[str | None] = mapped_column(String(10), nullable=True)
    warnings: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list: what the engine says about the scan itself
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Answer(Base):
    """One field of one page: the engine's reading, or a reviewer's decision."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("page_id", "field_id", name="uq_answer_page_field"),
        # covering indexes for the tallies: one scan answers a GROUP BY without touching the table
        Index("ix_answers_tally", "round_id", "counted", "field_id", "status", "source", "value_int", "agency", "sheet"),
        Index("ix_answers_sheet", "round_id", "counted", "sheet", "field_id", "status", "source", "value_int", "agency"),
        Index("ix_answers_agency", "round_id", "counted", "agency", "field_id", "status", "source", "value_int"),
        Index("ix_answers_round_newest", "round_id", "id"),  # a round's newest answer (the quality sample's draw)
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    field_id: Mapped[str] = mapped_column(String(80))
    value: Mapped[object | None] = mapped_column(JSON, nullable=True)
    value_int: Mapped[int | None] = mapped_column(Integer, nullable=True)  # single choice: for SQL tallies
    status: Mapped[str] = mapped_column(String(20))  # answered | blank | multiple | uncertain
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    reason: Mapped[str | None] = mapped_column(String(120), nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="engine")  # engine | reviewer | manual (keyed in from the image)
    text_suggestion: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the engine's reading of each box, [{"value", "fill", "kind"}] (what a reviewer is shown: the two marks of a
    # "multiple"); None for answers keyed in by a person
    marks: Mapped[object | None] = mapped_column(JSON, nullable=True)
    # copied from the page so that tallies are single-table scans (kept in step by service.worker.recount)
    counted: Mapped[bool] = mapped_column(default=False)  # the page is read, of the round's form, not a duplicate
    sheet: Mapped[str | None] = mapped_column(String(24), nullable=True)  # the page's respondent (Page.respondent)
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    channel: Mapped[str] = mapped_column(String(10), default="paper", server_default="paper")
    updated_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ReviewItem(Base):
    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_queue", "state", "round_id", "confidence"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    field_id: Mapped[str | None] = mapped_column(String(80), nullable=True)  # None: the page itself
    kind: Mapped[str] = mapped_column(String(10), default="field")  # field | page
    reason: Mapped[str] = mapped_column(String(120))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    order_key: Mapped[int] = mapped_column(Integer, default=0)  # field position on the page
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # bumped by every decision and undo: a write names the revision it saw, so of two at once exactly one wins
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), nullable=True, index=True)
    field_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    old: Mapped[object | None] = mapped_column(JSON, nullable=True)
    new: Mapped[object | None] = mapped_column(JSON, nullable=True)


class SheetSummary(Base):
    """Per sheet of a round: which index elements it answered validly (bit i = element i).

    Kept in step with the answers by service.tallies.refresh_sheet, so that the
    n behind every element is a sum over sheets instead of a COUNT(DISTINCT)
    over every answer.
    """

    __tablename__ = "sheet_summaries"
    __table_args__ = (UniqueConstraint("round_id", "sheet", name="uq_summary_round_sheet"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    sheet: Mapped[str] = mapped_column(String(24))  # the respondent key (Page.respondent)
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    channel: Mapped[str] = mapped_column(String(10), default="paper", server_default="paper")
    mask: Mapped[int] = mapped_column(Integer, default=0)


class ImportMapping(Base):
    """How an online survey's export maps onto a questionnaire: {column header: question id}, kept per form."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("template", "version", name="uq_import_mapping_form"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    mapping: Mapped[object] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class QualityCheck(Base):
    """One answer the engine accepted by itself, drawn for the blind double check: a reviewer reads it without
    seeing the engine's answer; a reading that differs goes to a second reviewer, whose reading stands (and
    corrects the answer when it differs from the engine's). ``wrong``: the engine's answer was wrong."""

    __tablename__ = "quality_checks"
    __table_args__ = (UniqueConstraint("round_id", "page_id", "field_id", name="uq_quality_answer"),
                      Index("ix_quality_queue", "round_id", "state"))
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    field_id: Mapped[str] = mapped_column(String(80))
    engine_value: Mapped[object | None] = mapped_column(JSON, nullable=True)
    engine_status: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(10), default="first")  # first | second | done
    first_value: Mapped[object | None] = mapped_column(JSON, nullable=True)
    first_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    first_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    first_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    second_value: Mapped[object | None] = mapped_column(JSON, nullable=True)
    second_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    second_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    second_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wrong: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
