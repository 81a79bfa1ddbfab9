"""The board API: the accepted assessments of the board's agency."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import LangDep, ViewerDep, require
from service.api.responses import ERRORS
from service.auth.policy import Permission
from service.board import service as board_service
from service.board.schemas import BoardItem
from service.deps import SessionDep
from service.i18n.labels import rating_label

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["board"])


@router.get(
    "/board/assessments",
    response_model=list[BoardItem],
    summary="Accepted assessments",
    dependencies=[require(Permission.board_read)],
)
def api_board(session: SessionDep, viewer: ViewerDep, lang: LangDep) -> list[BoardItem]:
    return [
        BoardItem(
            assessment_id=a.id,
            program=a.program,
            questionnaire_id=a.questionnaire_id,
            questionnaire_version=a.questionnaire_version,
            rating=d.rating,
            rating_label=rating_label(d.rating, lang),
            score=d.score,
            submitted_at=d.submitted_at,
        )
        for a, d in board_service.board_list(session=session, viewer=viewer)
    ]
