"""admin: questionnaire files uploaded in the app (draft, then published by a second person)

Revision ID: d982db4e9771
Revises: 59ebefbd2f4e
Create Date: 2026-12-06 00:10:10.045335
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d982db4e9771"
down_revision: str | None = "59ebefbd2f4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_upload",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user.id"],
            name=op.f("fk_questionnaire_upload_approved_by_id_user"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user.id"],
            name=op.f("fk_questionnaire_upload_uploaded_by_id_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_upload")),
        sa.UniqueConstraint("questionnaire_id", "version", name="uq_questionnaire_upload_version"),
    )
    with op.batch_alter_table("questionnaire_upload", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_upload_status"), ["status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("questionnaire_upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_upload_status"))
    op.drop_table("questionnaire_upload")
