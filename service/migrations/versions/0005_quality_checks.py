"""Quality control of the engine's accepted answers and the minimum sample for ranking.

Revision ID: 0005
Revises: 0004

* ``quality_checks``: the blind double check of a share of the answers the engine accepted by itself;
* ``rounds.qc_rate``, ``rounds.qc_limit``, ``rounds.qc_upto``: the share checked, the warned-about upper
  bound of the error rate, the answers drawn from so far;
* ``rounds.min_sample``: agencies with fewer valid sheets are shown but not ranked.

Revision 0001 creates the tables from the current models, so every step checks what is there already.
"""
import sqlalchemy as sa
from alembic import op

from service.models import QualityCheck

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    insp = sa.inspect(bind)
    cols = {c["name"] for c in insp.get_columns("rounds")}
    if "qc_rate" not in cols:
        op.add_column("rounds", sa.Column("qc_rate", sa.Float(), nullable=True))
    if "qc_limit" not in cols:
        op.add_column("rounds", sa.Column("qc_limit", sa.Float(), nullable=True))
    if "qc_upto" not in cols:
        op.add_column("rounds", sa.Column("qc_upto", sa.Integer(), nullable=False, server_default="0"))
    if "min_sample" not in cols:
        op.add_column("rounds", sa.Column("min_sample", sa.Integer(), nullable=True))
    if "quality_checks" not in insp.get_table_names():
        QualityCheck.__table__.create(bind)


def downgrade() -> None:
    op.drop_table("quality_checks")
    for col in ("min_sample", "qc_upto", "qc_limit", "qc_rate"):
        op.drop_column("rounds", col)
