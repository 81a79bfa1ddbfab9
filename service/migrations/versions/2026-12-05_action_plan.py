"""actions: the action plan (remediation_action), regulators' comments on actions
(action_comment) and the plan as at each decision (action_plan_snapshot)

Revision ID: 4eaed33b318c
Revises: 7c2e5a9d41b8
Create Date: 2026-12-05 23:31:28.422291
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "4eaed33b318c"
down_revision: str | None = "7c2e5a9d41b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_comment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("criterion_id", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_action_comment_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_action_comment_author_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_comment")),
    )
    with op.batch_alter_table("action_comment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_comment_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "remediation_action",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("criterion_id", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("risk_reason", sa.Text(), nullable=False),
        sa.Column("risk_accepted_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("carried_from_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_remediation_action_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["carried_from_id"],
            ["remediation_action.id"],
            name=op.f("fk_remediation_action_carried_from_id_remediation_action"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_remediation_action_updated_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remediation_action")),
        sa.UniqueConstraint(
            "assessment_id", "criterion_id", name=op.f("uq_remediation_action_assessment_id")
        ),
    )
    with op.batch_alter_table("remediation_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remediation_action_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "action_plan_snapshot",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_action_plan_snapshot_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_action_plan_snapshot_submission_id_submission"),
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_action_plan_snapshot")),
    )
    with op.batch_alter_table("action_plan_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_plan_snapshot_assessment_id"), ["assessment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_plan_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_plan_snapshot_assessment_id"))

    op.drop_table("action_plan_snapshot")
    with op.batch_alter_table("remediation_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remediation_action_assessment_id"))

    op.drop_table("remediation_action")
    with op.batch_alter_table("action_comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_comment_assessment_id"))

    op.drop_table("action_comment")
