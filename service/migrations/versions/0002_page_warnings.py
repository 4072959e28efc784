"""Page warnings: what the engine says about the scan itself (a streak on the scanner glass, a misplaced page).

Revision ID: 0002
Revises: 0001
Revision 0001 creates the tables from the current models, so a database made
by it already has the column; only databases made by release 0.1 need it added.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    cols = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("pages")}
    if "warnings" not in cols:
        op.add_column("pages", sa.Column("warnings", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("pages", "warnings")
