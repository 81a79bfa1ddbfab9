"""notices: the notices of each user (notice, once-only by key) and which kinds come by
e-mail (notice_preference); the regulator's due date of an assessment's next submission
(submission_due)

Revision ID: 9a23a390b260
Revises: 5a1c7e93b2d4
Create Date: 2026-12-06 02:48:07.089135
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "9a23a390b260"
down_revision: str | None = "5a1c7e93b2d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_state", sa.String(length=16), nullable=False),
        sa.Column("email_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_notice_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("key", name=op.f("uq_notice_key")),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_email_state"), ["email_state"], unique=False)
        batch_op.create_index("ix_notice_user_read", ["user_id", "read_at"], unique=False)

    op.create_table(
        "notice_preference",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_notice_preference_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notice_preference")),
    )
    op.create_table(
        "submission_due",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("resubmission", sa.Boolean(), nullable=False),
        sa.Column("set_by_id", sa.Uuid(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_submission_due_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["user.id"], name=op.f("fk_submission_due_set_by_id_user")
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_submission_due")),
    )
    with op.batch_alter_table("submission_due", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_due_due_on"), ["due_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submission_due", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_due_due_on"))

    op.drop_table("submission_due")
    op.drop_table("notice_preference")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_user_read")
        batch_op.drop_index(batch_op.f("ix_notice_email_state"))

    op.drop_table("notice")
