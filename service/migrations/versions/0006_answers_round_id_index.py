"""An index on answers (round_id, id): the newest answer of a round (what the quality sample has drawn up to,
asked on every ``GET /api/quality``) is read from it at once instead of from every answer of the round.

Revision ID: 0006
Revises: 0005

Revision 0001 creates the tables from the current models, so every step checks what is there already.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    insp = sa.inspect(op.get_bind())
    if "ix_answers_round_newest" not in {ix["name"] for ix in insp.get_indexes("answers")}:
        op.create_index("ix_answers_round_newest", "answers", ["round_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_answers_round_newest", table_name="answers")
