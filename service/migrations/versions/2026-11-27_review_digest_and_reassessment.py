"""review: submission digest (inbox and portfolio) and reassessment link

Revision ID: e6bc7a8cffe4
Revises: b6c084f25f99
Create Date: 2026-11-27 00:44:05.654896
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e6bc7a8cffe4"
down_revision: str | None = "b6c084f25f99"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reassessment",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("previous_assessment_id", sa.Uuid(), nullable=False),
        sa.Column("previous_submission_id", sa.Uuid(), nullable=False),
        sa.Column("new_questions", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_reassessment_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_assessment_id"],
            ["assessment.id"],
            name=op.f("fk_reassessment_previous_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_submission_id"],
            ["submission.id"],
            name=op.f("fk_reassessment_previous_submission_id_submission"),
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_reassessment")),
    )
    with op.batch_alter_table("reassessment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reassessment_previous_assessment_id"),
            ["previous_assessment_id"],
            unique=False,
        )

    op.create_table(
        "submission_digest",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "questionnaire_version", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("rating", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("verdicts", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("critical_gaps", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_submission_digest_assessment_id_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_submission_digest_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_submission_digest_submission_id_submission"),
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_digest")),
    )
    with op.batch_alter_table("submission_digest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_digest_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(
            "ix_submission_digest_latest_org", ["latest", "organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_submission_digest_latest_submitted", ["latest", "submitted_at"], unique=False
        )
        batch_op.create_index(
            "ix_submission_digest_questionnaire",
            ["questionnaire_id", "questionnaire_version", "organisation_id"],
            unique=False,
        )

    _backfill_digests()


def _backfill_digests() -> None:
    """A digest for each submission already stored (read from its result JSON)."""
    import json

    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT s.id, s.assessment_id, s.number, s.result, s.submitted_at, a.organisation_id,"
            " a.questionnaire_id, a.questionnaire_version FROM submission s"
            " JOIN assessment a ON a.id = s.assessment_id ORDER BY s.assessment_id, s.number"
        )
    ).fetchall()
    latest: dict[object, int] = {}
    for row in rows:
        latest[row[1]] = max(latest.get(row[1], 0), row[2])
    table = sa.table(
        "submission_digest",
        sa.column("submission_id", sa.Uuid()),
        sa.column("assessment_id", sa.Uuid()),
        sa.column("organisation_id", sa.Uuid()),
        sa.column("questionnaire_id", sa.String()),
        sa.column("questionnaire_version", sa.String()),
        sa.column("number", sa.Integer()),
        sa.column("latest", sa.Boolean()),
        sa.column("rating", sa.String()),
        sa.column("score", sa.Float()),
        sa.column("verdicts", sa.String()),
        sa.column("critical_gaps", sa.JSON()),
        sa.column("submitted_at", sa.DateTime(timezone=True)),
    )
    values = []
    for sid, aid, number, result, at, org, qid, qver in rows:
        data = json.loads(result) if isinstance(result, str) else result
        criteria = data.get("criteria", [])
        values.append(
            {
                "submission_id": sid,
                "assessment_id": aid,
                "organisation_id": org,
                "questionnaire_id": qid,
                "questionnaire_version": qver,
                "number": number,
                "latest": number == latest[aid],
                "rating": data.get("rating", "red"),
                "score": data.get("score"),
                "verdicts": ";".join(f"{c['id']}={c['verdict']}" for c in criteria),
                "critical_gaps": [
                    c["id"]
                    for c in criteria
                    if c.get("severity") == "critical"
                    and c["verdict"] in ("not_met", "dont_know", "unanswered")
                ],
                "submitted_at": at,
            }
        )
    if values:
        op.bulk_insert(table, values)


def downgrade() -> None:
    with op.batch_alter_table("submission_digest", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_digest_questionnaire")
        batch_op.drop_index("ix_submission_digest_latest_submitted")
        batch_op.drop_index("ix_submission_digest_latest_org")
        batch_op.drop_index(batch_op.f("ix_submission_digest_assessment_id"))

    op.drop_table("submission_digest")
    with op.batch_alter_table("reassessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reassessment_previous_assessment_id"))

    op.drop_table("reassessment")
