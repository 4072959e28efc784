"""Sessions of their own, one live file per content hash, respondents, review revisions.

Revision ID: 0003
Revises: 0002

* ``web_sessions``: a browser's sign-in is a random id of its own, stored hashed, ended by logout or expiry
  (the cookie was the API token itself);
* ``users.active``, ``users.last_login_at``;
* ``uq_files_round_sha_live``: one live (not duplicate, not retried) file per round and content hash,
  enforced by the database (a read-then-write check let parallel uploads of one file through twice);
  earlier duplicates that slipped through are marked as duplicates first;
* ``pages.respondent``: the key a page's answers are grouped under (two different sheets that share a
  serial stay two respondents); ``answers.sheet`` and ``sheet_summaries.sheet`` widen to hold it;
* ``answers.marks``: the engine's reading of each box (a reviewer is shown which options held the marks);
* ``review_items.revision``: optimistic concurrency for decisions (two at once: exactly one wins).

Revision 0001 creates the tables from the current models, so every step checks what is there already.
"""
import sqlalchemy as sa
from alembic import op

from service.models import LIVE_FILE, WebSession

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _cols(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    bind = op.get_bind()
    insp = sa.inspect(bind)
    if "web_sessions" not in insp.get_table_names():
        WebSession.__table__.create(bind)
    users = _cols("users")
    if "active" not in users:
        op.add_column("users", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    if "last_login_at" not in users:
        op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    if "respondent" not in _cols("pages"):
        op.add_column("pages", sa.Column("respondent", sa.String(24), nullable=True))
    if "marks" not in _cols("answers"):
        op.add_column("answers", sa.Column("marks", sa.JSON(), nullable=True))
    if "revision" not in _cols("review_items"):
        op.add_column("review_items", sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    if bind.dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        op.alter_column("answers", "sheet", type_=sa.String(24), existing_nullable=True)
        op.alter_column("sheet_summaries", "sheet", type_=sa.String(24), existing_nullable=False)
    if "uq_files_round_sha_live" not in {i["name"] for i in insp.get_indexes("files")}:
        # a file that slipped through twice: the later copies become what they should have been
        first = ("(SELECT MIN(f2.id) FROM files f2 WHERE f2.round_id = files.round_id AND f2.sha256 = files.sha256 "
                 "AND f2.status NOT IN ('duplicate', 'retried'))")
        bind.execute(sa.text(f"UPDATE files SET status = 'duplicate', duplicate_of = {first} WHERE {LIVE_FILE} AND id > {first}"))
        op.create_index("uq_files_round_sha_live", "files", ["round_id", "sha256"], unique=True,
                        sqlite_where=sa.text(LIVE_FILE), postgresql_where=sa.text(LIVE_FILE))


def downgrade() -> None:
    op.drop_index("uq_files_round_sha_live", table_name="files")
    op.drop_column("review_items", "revision")
    op.drop_column("answers", "marks")
    op.drop_column("pages", "respondent")
    op.drop_column("users", "last_login_at")
    op.drop_column("users", "active")
    op.drop_table("web_sessions")
