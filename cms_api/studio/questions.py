"""Reader questions in the studio: the queue, and answering, rejecting or promoting to an FAQ."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, redirect, request, url_for
from werkzeug.exceptions import NotFound

from cms_api.models import ReaderQuestion
from cms_api.models.question import QUESTION_STATUSES
from cms_api.schemas.admin.questions import QuestionAnswerIn, QuestionPromoteIn
from cms_api.services.editorial import questions
from cms_api.studio import actions, errors, nav, pages, security
from cms_api.studio.blueprint import bp

nav.add_section(
    nav.Section(
        endpoint="studio.questions_list",
        label="Questions",
        description="Readers' questions: answer them, set them aside, or make them FAQs.",
        action="questions:manage",
    )
)

PAGE = 50
STATUS_LABELS = {
    "new": "New",
    "answered": "Answered",
    "rejected": "Rejected",
    "promoted": "Promoted",
}


def _listing(
    status: str, *, forms: dict[str, pages.Form] | None = None, code: int = 200
) -> Response:
    cursor = request.args.get("cursor") or None
    page = questions.list_questions(status=status, limit=PAGE, cursor=cursor)
    return pages.render_page(
        "studio/questions/list.html",
        status=code,
        shown_status=status,
        status_labels=STATUS_LABELS,
        items=questions.present(page.items, include_email=True),
        actions_by_status=questions.ACTIONS_BY_STATUS,
        total=page.total,
        next_cursor=page.next_cursor,
        target_forms=forms or {},
        empty_form=pages.Form(),
        # The refusal's message heads the page: the question may have left this list.
        page_form=next((f for f in (forms or {}).values() if f.message), pages.Form()),
    )


@bp.get("/questions")
@security.requires("questions:manage")
def questions_list() -> Response:
    status = request.args.get("status", "new")
    if status not in QUESTION_STATUSES:
        raise NotFound("There is no such list of questions.")
    return _listing(status)


def _question_for_decision(question_id: uuid.UUID) -> tuple[ReaderQuestion, Response | None]:
    """The question, locked; with a conflict screen when it changed since the page was shown."""
    question = questions.get_question(question_id, for_update=True)
    if request.form.get("version") != str(question.version):
        return question, errors.error_page(
            409,
            "Someone decided on this question since you opened the page (it is now "
            f"{question.status}). Nothing was changed. Open the questions again.",
        )
    return question, None


def _decided(
    question: ReaderQuestion, done: actions.Done[Any], form: pages.Form, what: str
) -> Response:
    if done.ok:
        pages.notice(what, category="success")
        return redirect(url_for("studio.questions_list"), code=303)
    assert done.error is not None
    form.refuse_with(done.error)
    return _listing("new", forms={f"{question.id}": form}, code=done.error.status)


@bp.post("/questions/<uuid:question_id>/answer")
@security.requires("questions:manage")
def answer_question(question_id: uuid.UUID) -> Response:
    question, stale = _question_for_decision(question_id)
    if stale is not None:
        return stale
    form = pages.Form.from_request(request.form)
    form.values["action"] = "answer"
    loaded = pages.validated(
        QuestionAnswerIn(),
        {"answer": request.form.get("answer", "")},
        form,
        "Please correct the marked fields.",
    )
    if loaded is None:
        return _listing("new", forms={f"{question.id}": form}, code=422)
    done = actions.perform(lambda actor: questions.answer(question, loaded["answer"], actor))
    return _decided(question, done, form, "The question is answered.")


@bp.post("/questions/<uuid:question_id>/reject")
@security.requires("questions:manage")
def reject_question(question_id: uuid.UUID) -> Response:
    question, stale = _question_for_decision(question_id)
    if stale is not None:
        return stale
    form = pages.Form()
    done = actions.perform(lambda actor: questions.reject(question, actor))
    return _decided(question, done, form, "The question is rejected.")


@bp.post("/questions/<uuid:question_id>/promote")
@security.requires("questions:manage")
def promote_question(question_id: uuid.UUID) -> Response:
    question, stale = _question_for_decision(question_id)
    if stale is not None:
        return stale
    form = pages.Form.from_request(request.form)
    form.values["action"] = "promote"
    data = {
        name: value
        for name in ("question", "answer")
        if (value := request.form.get(f"faq_{name}", "").strip())
    }
    loaded = pages.validated(QuestionPromoteIn(), data, form, "Please correct the marked fields.")
    if loaded is None:
        return _listing("new", forms={f"{question.id}": form}, code=422)
    done = actions.perform(lambda actor: questions.promote(question, loaded, actor))
    what = "The question is now an FAQ; it reaches readers once it is reviewed."
    return _decided(question, done, form, what)
