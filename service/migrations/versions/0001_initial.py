"""The schema of release 0.1.

Revision ID: 0001
The first revision creates the tables as the models of release 0.1 define
them; every later change to service/models.py gets its own revision here with
explicit operations (`alembic revision --autogenerate` against a 0.1 database).
"""
from alembic import op

from service.models import Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    Base.metadata.create_all(op.get_bind())


def downgrade() -> None:
    Base.metadata.drop_all(op.get_bind())
