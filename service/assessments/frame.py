"""The frame of every page about one assessment: load it with its agency and questionnaire
(404 when the viewer may not see it), whether it may be changed now, and the context its
templates share. Used by the assessment pages and by the document and review pages of an
assessment (a feature's public module besides ``service`` and ``models``: see
docs/architecture.md)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from service.assessments import access, forms
from service.assessments import service as assessment_service
from service.assessments.models import Assessment
from service.auth.deps import checked_form
from service.deps import request_session
from service.errors import Forbidden, NotFound
from service.models import Organisation
from service.questionnaire import engine
from service.questionnaire.answers import AnswerValue
from service.questionnaire.loader import Registry
from service.questionnaire.schema import Questionnaire, Section, localize
from service.questionnaire.submission import DocumentRef
from service.web.page import PageContext, form_version, open_page, parse_id, redirect, today

__all__ = [
    "Page",
    "PageDep",
    "PageForm",
    "form_version",
    "parse_id",
    "redirect",
    "today",
    "typed_rows",
]


def section_slug(section_id: str) -> str:
    return section_id.replace("_", "-")


def section_url(assessment_id: object, section_id: str) -> str:
    """The page of one section. Sections live under ``/sections/`` so that no section id can
    shadow another page of the assessment (``/assessments/{id}/history``...)."""
    return f"/assessments/{assessment_id}/sections/{section_slug(section_id)}"


def find_section(questionnaire: Questionnaire, slug: str) -> Section:
    for section in questionnaire.sections:
        if section_slug(section.id) == slug:
            return section
    raise NotFound()


def questionnaire_of(registry: Registry, assessment: Assessment) -> Questionnaire:
    questionnaire = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    if questionnaire is None:
        raise NotFound("The questionnaire version of this assessment is not loaded")
    return questionnaire


def typed_rows(
    questionnaire: Questionnaire,
    values: Mapping[str, AnswerValue | list[str] | None],
    evidence: Mapping[str, str | None],
    lang: str,
    *,
    sections: list[Section] | None = None,
) -> list[dict[str, str]]:
    """What a person sent and was not saved, question by question, as the conflict page shows
    it (``values`` as typed in a form or as read from a file; ``evidence`` by question id)."""
    rows = []
    for section in sections or questionnaire.sections:
        for q in section.questions:
            typed = values.get(q.id)
            note = evidence.get(q.id) or ""
            if typed in (None, "", []) and not note:
                continue
            if isinstance(typed, list):
                answer = ", ".join(str(v) for v in typed)
            elif isinstance(typed, str) or typed is None:
                answer = typed or ""
            else:
                answer = forms.display_value(q, typed, lang)
            rows.append({"question": localize(q.text, lang), "answer": answer, "evidence": note})
    return rows


def document_links(assessment_id: uuid.UUID, refs: list[DocumentRef]) -> list[dict[str, Any]]:
    """The documents of one answer as pages list them (``components/_document_list.html``)."""
    return [
        {
            "name": r.name,
            "sha256": r.sha256,
            "size": r.size,
            "url": f"/assessments/{assessment_id}/documents/{r.sha256}",
        }
        for r in refs
    ]


class Page(PageContext):
    """What every assessment page needs: the records, the questionnaire and a renderer."""

    def load(self, assessment_id: str) -> tuple[Assessment, Organisation, Questionnaire]:
        assessment, agency = assessment_service.get_visible(
            session=self.session, viewer=self.viewer, assessment_id=parse_id(assessment_id)
        )
        return assessment, agency, questionnaire_of(self.registry, assessment)

    def mine(self, assessment: Assessment, questionnaire: Questionnaire) -> frozenset[str] | None:
        """The questions assigned to the viewer when their role reads only those (None: every
        question)."""
        return assessment_service.assigned_questions(
            self.session, self.viewer, assessment, questionnaire
        )

    def part_of(
        self, assessment: Assessment, questionnaire: Questionnaire, section: Section
    ) -> Section:
        """``section`` as the viewer may see it: only the questions assigned to them (403 when
        none is), or all of it."""
        mine = self.mine(assessment, questionnaire)
        if mine is None:
            return section
        questions = [q for q in section.questions if q.id in mine]
        if not questions:
            raise Forbidden()
        return section.model_copy(update={"questions": questions})

    def editable(self, assessment: Assessment) -> bool:
        return (
            access.can_edit(user=self.viewer.user, assessment=assessment)
            and assessment.status in access.EDITABLE
        )

    def refuse_change(
        self, assessment: Assessment, agency: Organisation, questionnaire: Questionnaire
    ) -> HTMLResponse | None:
        """None when the viewer may change the assessment now; else the page saying why not
        (409 "already submitted" for its officers, 403 for every other role)."""
        if self.editable(assessment):
            return None
        if not access.can_edit(user=self.viewer.user, assessment=assessment):
            raise Forbidden()
        return self.render(
            "assessments/already_submitted.html",
            self.common(assessment, agency, questionnaire),
            status_code=409,
        )

    def common(
        self, assessment: Assessment, agency: Organisation, questionnaire: Questionnaire
    ) -> dict[str, Any]:
        return {
            "assessment": assessment,
            "agency_name": agency.name(self.visitor.lang),
            "questionnaire": questionnaire,
            "q_title": localize(questionnaire.title, self.visitor.lang),
            "base": f"/assessments/{assessment.id}",
            "editable": self.editable(assessment),
        }

    def section_rows(
        self,
        questionnaire: Questionnaire,
        assessment: Assessment,
        section: Section,
        *,
        return_all: bool,
        documents: Mapping[str, list[DocumentRef]] | None = None,
        lacking: Mapping[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """A section's questions shown now, with their saved answers and notes (check your
        answers, a section's check page, the conflict page); with ``documents`` (by question)
        the documents attached to each answer, with ``lacking`` (`met_without_evidence`) the
        criteria whose "met" wants evidence on it."""
        lang = self.visitor.lang
        visible = engine.resolve(
            questionnaire, assessment_service.answers_of(assessment), today()
        ).visible
        mine = self.mine(assessment, questionnaire)
        base = section_url(assessment.id, section.id)
        rows = []
        for q in section.questions:
            if q.id not in visible or (mine is not None and q.id not in mine):
                continue
            rows.append(
                {
                    "id": q.id,
                    "question": localize(q.text, lang),
                    "answer": forms.display_value(q, assessment.answers.get(q.id), lang),
                    "evidence": assessment.evidence.get(q.id, ""),
                    "documents": document_links(assessment.id, (documents or {}).get(q.id, [])),
                    "lacking": (lacking or {}).get(q.id, []),
                    "required": q.required,
                    "change_url": base + ("?return=all" if return_all else "") + f"#{q.id}",
                }
            )
        return {
            "id": section.id,
            "title": localize(section.title, lang),
            "rows": rows,
            "check_url": base + "/check",
        }

    def conflict(
        self,
        assessment_id: uuid.UUID,
        section: Section | None,
        yours: list[dict[str, str]] | None = None,
        *,
        missing_version: bool = False,
        fields: list[str] | None = None,
    ) -> HTMLResponse:
        """The change was not saved: 409 when someone saved after the form was read, 428 when
        the form did not say which version it was read at (``missing_version``: it might be
        stale, so it is not merged). Shows the answers saved now (of ``section``, or all) and
        ``yours``, what the user sent (``typed_rows``), so that nothing typed is lost; with
        ``fields``, the answers and notes others changed too (by their questions' text)."""
        assessment, agency, questionnaire = self.load(str(assessment_id))
        sections = [section] if section else questionnaire.sections
        groups = [
            self.section_rows(questionnaire, assessment, s, return_all=False) for s in sections
        ]
        groups = [g for g in groups if g["rows"] or self.mine(assessment, questionnaire) is None]
        index = questionnaire.question_index()
        names: list[str] = []
        for key in fields or []:
            question = index.get(key.removeprefix(assessment_service.EVIDENCE_KEY))
            if question is None:
                continue
            text = localize(question.text, self.visitor.lang)
            if key.startswith(assessment_service.EVIDENCE_KEY):
                text = self._("Evidence for: {question}", question=text)
            names.append(text)
        return self.render(
            "assessments/conflict.html",
            self.common(assessment, agency, questionnaire)
            | {
                "groups": groups,
                "yours": yours or [],
                "missing_version": missing_version,
                "conflicting": names,
                "reload_url": section_url(assessment.id, section.id)
                if section
                else f"/assessments/{assessment.id}/",
            },
            status_code=428 if missing_version else 409,
        )

    def review_comments(
        self, assessment: Assessment, questionnaire: Questionnaire, section_id: str | None = None
    ) -> list[dict[str, str]]:
        """The reviewer's comments the officer must see (all, or a section's), as data."""
        return assessment_service.officer_comments(
            session=self.session,
            assessment=assessment,
            questionnaire=questionnaire,
            lang=self.visitor.lang,
            section_id=section_id,
        )

    def new_questions(
        self, assessment: Assessment, questionnaire: Questionnaire, section_id: str
    ) -> list[dict[str, str]]:
        """The section's questions new since the assessment this reassessment started from."""
        return assessment_service.new_questions_in(
            session=self.session,
            assessment=assessment,
            questionnaire=questionnaire,
            lang=self.visitor.lang,
            section_id=section_id,
        )


async def get_page(request: Request) -> AsyncIterator[Page]:
    async with request_session(request) as session:
        yield await open_page(request, session, Page)


PageDep = Annotated[Page, Depends(get_page)]


async def get_page_form(request: Request, page: PageDep) -> AsyncIterator[FormData]:
    """The posted form of an assessment page, after the CSRF check (403 otherwise)."""
    async with checked_form(request, page.visitor) as form:
        yield form


PageForm = Annotated[FormData, Depends(get_page_form)]
