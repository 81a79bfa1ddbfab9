"""the public verify page's uses, for a rate limit every worker shares

Revision ID: 7c2e5a9d41b8
Revises: 3159c4aafe1b
Create Date: 2026-12-06 00:20:00

Only a keyed hash of the client's address and the time are kept, for a minute.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "7c2e5a9d41b8"
down_revision: str | None = "3159c4aafe1b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verify_use",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_use")),
    )
    with op.batch_alter_table("verify_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verify_use_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_verify_use_client"), ["client"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verify_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verify_use_client"))
        batch_op.drop_index(batch_op.f("ix_verify_use_at"))
    op.drop_table("verify_use")
