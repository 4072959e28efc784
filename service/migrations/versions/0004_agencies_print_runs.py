"""Agencies with kind, parent and state; print runs (which serials went to which agency); round state and
targets; the channel of every page, answer and sheet (paper or online) and the saved mappings of online imports.

Revision ID: 0004
Revises: 0003
Revision 0001 creates the tables from the current models, so every step checks what is there already.
"""
import sqlalchemy as sa
from alembic import op

from service.models import ImportMapping, PrintRun

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    insp = sa.inspect(bind)
    cols = {c["name"] for c in insp.get_columns("agencies")}
    if "kind" not in cols:
        op.add_column("agencies", sa.Column("kind", sa.String(20), nullable=False, server_default="khac"))
    if "parent" not in cols:
        op.add_column("agencies", sa.Column("parent", sa.String(40), nullable=True))
    if "active" not in cols:
        op.add_column("agencies", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    rounds = {c["name"] for c in insp.get_columns("rounds")}
    if "state" not in rounds:
        op.add_column("rounds", sa.Column("state", sa.String(10), nullable=False, server_default="open"))
    if "targets" not in rounds:
        op.add_column("rounds", sa.Column("targets", sa.JSON(), nullable=True))
    if "print_runs" not in insp.get_table_names():
        PrintRun.__table__.create(bind)
    if "import_mappings" not in insp.get_table_names():
        ImportMapping.__table__.create(bind)
    for table in ("pages", "answers", "sheet_summaries"):
        if "channel" not in {c["name"] for c in insp.get_columns(table)}:
            op.add_column(table, sa.Column("channel", sa.String(10), nullable=False, server_default="paper"))


def downgrade() -> None:
    op.drop_table("import_mappings")
    for table in ("pages", "answers", "sheet_summaries"):
        op.drop_column(table, "channel")
    op.drop_table("print_runs")
    op.drop_column("rounds", "targets")
    op.drop_column("rounds", "state")
    op.drop_column("agencies", "active")
    op.drop_column("agencies", "parent")
    op.drop_column("agencies", "kind")
