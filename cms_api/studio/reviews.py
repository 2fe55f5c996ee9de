"""The reviewer's screens: the review queue, and an article's changes, comments and decision."""

from __future__ import annotations

import difflib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Response, redirect, request, url_for
from markupsafe import Markup, escape

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import DomainError
from cms_api.models import Article, User
from cms_api.schemas.admin.articles import ApproveIn, ReviewDecisionIn
from cms_api.schemas.admin.comments import CommentCreate
from cms_api.services.accounts import audit
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import changes, comments, workflow
from cms_api.services.editorial.common import reviews_in
from cms_api.studio import actions, errors, nav, pages, security
from cms_api.studio.blueprint import bp

nav.add_section(
    nav.Section(
        endpoint="studio.review_queue",
        label="Reviews",
        description="Articles awaiting your medical review, and reviews that are overdue.",
        action="workflow:review",
    )
)

# A queue is short (what awaits review now): read it whole, a page of the service at a time.
PAGE = 100
MAX_PAGES = 10
THREADS_SHOWN = 200
# How a request for changes reads among the comments, so the editor finds it there.
CHANGES_REQUESTED = "Changes requested: "
# The fields shown first, as readers meet them; other changed fields follow.
FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "disclaimer": "Disclaimer",
    "meta_title": "Meta title",
    "meta_description": "Meta description",
    "canonical_url": "Canonical URL",
    "call_to_actions": "Calls to action",
    "citations": "Citations",
    "topics": "Topics",
    "authors": "Authors",
    "faqs": "FAQs",
    "links": "Related links",
    "review_interval_months": "Review interval (months)",
    "lead_image_id": "Lead image",
    "disclosures": "Disclosures",
}
TOKENS = re.compile(r"\s+|[^\s]+")


# -- the queue ------------------------------------------------------------------------------


def _all(filters: editorial.ArticleFilters) -> list[Article]:
    found: list[Article] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page = editorial.list_articles(filters, limit=PAGE, cursor=cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    return found


def _covers(user: User, article: Article) -> bool:
    person = user.person
    return person is not None and reviews_in(person.review_locales, article.locale)


def awaiting(user: User) -> list[Article]:
    """Articles in review in the locales `user` reviews, the longest waiting first."""
    found = _all(editorial.ArticleFilters(status="in_review"))
    return sorted((a for a in found if _covers(user, a)), key=lambda a: (a.updated_at, a.id))


def overdue(user: User) -> list[Article]:
    """Live articles in `user`'s locales whose periodic review date has passed, oldest due first."""
    found = _all(editorial.ArticleFilters(overdue=True))
    return sorted((a for a in found if _covers(user, a)), key=lambda a: (a.next_review_due, a.slug))


@bp.get("/reviews")
@security.requires("workflow:review")
def review_queue() -> Response:
    user = security.current_user()
    assert user is not None  # requires
    return pages.render_page(
        "studio/reviews/queue.html",
        awaiting=awaiting(user),
        overdue=overdue(user),
        locales=list(user.person.review_locales) if user.person else [],
        today=utcnow().date(),
    )


# -- the per-field diff -------------------------------------------------------------------


def word_diff(old: str, new: str) -> tuple[Markup, Markup]:
    """Both texts escaped, words removed from `old` in <del> and added to `new` in <ins>."""
    before, after = TOKENS.findall(old or ""), TOKENS.findall(new or "")
    left: list[str] = []
    right: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(before[i1:i2]), "".join(after[j1:j2])
        if op == "equal":
            left.append(str(escape(removed)))
            right.append(str(escape(added)))
            continue
        if removed:
            left.append(f"<del>{escape(removed)}</del>")
        if added:
            right.append(f"<ins>{escape(added)}</ins>")
    return Markup("".join(left)), Markup("".join(right))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@dataclass
class SectionChange:
    """One section as the live version and the revision under review have it."""

    key: str
    heading: str
    status: str  # "changed", "added", "removed" or "unchanged"
    old: Markup
    new: Markup
    threads: list[dict[str, Any]] = field(default_factory=list)


def _flatten(sections: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    flat: dict[str, dict[str, Any]] = {}
    for item in sections or []:
        flat[item["key"]] = item
        flat.update(_flatten(item.get("subsections")))
    return flat


def _section_text(item: dict[str, Any] | None) -> str:
    if item is None:
        return ""
    return f"## {item.get('heading') or ''}\n\n{item.get('body') or ''}"


def section_changes(old: list[Any] | None, new: list[Any] | None) -> list[SectionChange]:
    """Every section of either version, in the new version's order, then removed ones."""
    before, after = _flatten(old), _flatten(new)
    keys = list(after) + [key for key in before if key not in after]
    result = []
    for key in keys:
        was, now = before.get(key), after.get(key)
        status = (
            "added"
            if was is None
            else "removed"
            if now is None
            else "unchanged"
            if _section_text(was) == _section_text(now)
            else "changed"
        )
        left, right = word_diff(_section_text(was), _section_text(now))
        heading = (now or was or {}).get("heading") or key
        result.append(SectionChange(key, heading, status, left, right))
    return result


def field_changes(diff: dict[str, dict[str, Any]]) -> list[tuple[str, Markup, Markup]]:
    """The changed fields other than sections, each as (label, old, new) with words marked."""
    names = [name for name in FIELD_LABELS if name in diff]
    names += sorted(name for name in diff if name not in FIELD_LABELS and name != "sections")
    return [
        (
            FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
            *word_diff(_text(diff[name]["from"]), _text(diff[name]["to"])),
        )
        for name in names
    ]


# -- the review page ------------------------------------------------------------------------


def _returned_notes(article: Article) -> list[dict[str, Any]]:
    """Requests for changes of this article, newest first, with their notes."""
    page = audit.search(
        audit.AuditFilters(target_type="article", target_id=str(article.id)),
        reader_role="admin",  # article entries carry no personal data
        cursor=None,
        limit=50,
    )
    return [
        {"at": event.at, "notes": (event.after or {}).get("notes")}
        for event in page.items
        if event.action == "article.request_changes"
    ]


def _review_page(
    article: Article,
    *,
    form: pages.Form | None = None,
    forms: dict[str, pages.Form] | None = None,
    status: int = 200,
) -> Response:
    user = security.current_user()
    assert user is not None
    review = changes.under_review(article)
    if review is not None:
        sections = section_changes(
            (review["changes"].get("sections") or {}).get("from"),
            (review["changes"].get("sections") or {}).get("to"),
        )
        if "sections" not in review["changes"]:
            # Unchanged sections are still where comments are anchored.
            current = editorial.present(article)["sections"]
            sections = section_changes(current, current)
        fields = field_changes(review["changes"])
    else:
        current = editorial.present(article)["sections"]
        sections, fields = section_changes(current, current), []
    threads = comments.present(
        comments.list_threads(
            article, resolved=None, section_key=None, limit=THREADS_SHOWN, cursor=None
        ).items
    )
    by_key = {item.key: item for item in sections}
    general = []
    for thread in threads:
        anchor = by_key.get(thread["section_key"] or "")
        (anchor.threads if anchor is not None else general).append(thread)
    return pages.render_page(
        "studio/reviews/review.html",
        status=status,
        article=article,
        review=review,
        sections=sections,
        fields=fields,
        general_threads=general,
        form=form or pages.Form(),
        target_forms=forms or {},
        empty_form=pages.Form(),
        returned=_returned_notes(article),
        covers=_covers(user, article),
        locales=list(user.person.review_locales) if user.person else [],
    )


@bp.get("/reviews/<uuid:article_id>")
@security.requires("content:read")
def review_page(article_id: uuid.UUID) -> Response:
    return _review_page(editorial.get_article(article_id))


def _perform(call: Any) -> actions.Done[Any]:
    """`actions.perform`, with a refusal for this reviewer (403, such as a locale they do
    not review) shown on the page rather than as an error page."""
    try:
        return actions.perform(call)
    except DomainError as error:
        if error.status != 403:
            raise
        db.session.rollback()
        return actions.Done(error=error)


def _stale(article: Article) -> Response | None:
    """A conflict screen when the article changed since the reviewer's page was rendered."""
    seen = request.form.get("revision", "")
    if seen.isdigit() and int(seen) == (article.revision_number or 0):
        return None
    return errors.error_page(
        409,
        f"“{article.title}” changed since you opened it: it is now at revision "
        f"{article.revision_number}. Nothing was recorded. Open the review again to see "
        "the latest text before you decide.",
    )


def _back(article: Article, anchor: str = "") -> Response:
    return redirect(url_for("studio.review_page", article_id=article.id) + anchor, code=303)


@bp.post("/reviews/<uuid:article_id>/comments")
@security.requires("comments:write")
def add_comment(article_id: uuid.UUID) -> Response:
    article = editorial.get_article(article_id)
    form = pages.Form.from_request(request.form)
    target = request.form.get("parent_id") or request.form.get("section_key") or "article"
    data: dict[str, Any] = {"body": request.form.get("body", "")}
    if request.form.get("parent_id"):
        data["parent_id"] = request.form["parent_id"]
    elif request.form.get("section_key"):
        data["section_key"] = request.form["section_key"]
    loaded = pages.validated(CommentCreate(), data, form, "Please correct the marked fields.")
    if loaded is not None:
        user = security.current_user()
        done = actions.perform(
            lambda actor: comments.create_comment(article, loaded, user, actor)  # type: ignore[arg-type]
        )
        if done.ok:
            pages.notice("Your comment was added.", category="success")
            return _back(article, f"#comments-{target}")
        assert done.error is not None
        form.refuse_with(done.error)
    return _review_page(article, forms={target: form}, status=422)


@bp.post("/reviews/<uuid:article_id>/comments/<uuid:comment_id>/resolve")
@security.requires("comments:write")
def resolve_comment(article_id: uuid.UUID, comment_id: uuid.UUID) -> Response:
    article = editorial.get_article(article_id)
    comment = comments.get_comment(article.id, comment_id, for_update=True)
    if request.form.get("version") != str(comment.version):
        return errors.error_page(
            409,
            "Someone changed this comment since you opened the page (it was edited, "
            "resolved or reopened). Nothing was changed. Open the review again.",
        )
    user = security.current_user()
    done = _perform(
        lambda actor: comments.update_comment(comment, {"resolved": True}, user, actor)  # type: ignore[arg-type]
    )
    if not done.ok:
        assert done.error is not None
        form = pages.Form().refuse_with(done.error)
        return _review_page(article, form=form, status=done.error.status)
    pages.notice("The thread is resolved.", category="success")
    return _back(article, f"#comments-{comment.section_key or 'article'}")


@bp.post("/reviews/<uuid:article_id>/approve")
@security.requires("workflow:review")
def approve(article_id: uuid.UUID) -> Response:
    article = editorial.get_article(article_id, for_update=True)
    stale = _stale(article)
    if stale is not None:
        return stale
    form = pages.Form.from_request(request.form)
    data = {
        key: value
        for key in ("kind", "notes", "note")
        if (value := request.form.get(key, "").strip())
    }
    loaded = pages.validated(ApproveIn(), data, form, "Please correct the marked fields.")
    if loaded is not None:
        user = security.current_user()
        done = _perform(
            lambda actor: workflow.approve(
                article,
                user,  # type: ignore[arg-type]
                actor,
                kind=loaded["kind"],
                notes=loaded.get("notes"),
                public_note=loaded.get("note"),
            )
        )
        if done.ok:
            kind = "clinical review" if loaded["kind"] == "clinical" else "correction"
            pages.notice(
                f"You approved “{article.title}” as a {kind}. An editor can now publish it.",
                category="success",
            )
            return redirect(url_for("studio.review_queue"), code=303)
        assert done.error is not None
        form.refuse_with(done.error)
        return _review_page(article, forms={"approve": form}, status=done.error.status)
    return _review_page(article, forms={"approve": form}, status=422)


@bp.post("/reviews/<uuid:article_id>/request-changes")
@security.requires("workflow:review")
def request_changes(article_id: uuid.UUID) -> Response:
    article = editorial.get_article(article_id, for_update=True)
    stale = _stale(article)
    if stale is not None:
        return stale
    form = pages.Form.from_request(request.form)
    notes = request.form.get("notes", "").strip()
    if not notes:
        form.refuse("Say what needs to change.", notes=["Required: the editor works from it."])
        return _review_page(article, forms={"request_changes": form}, status=422)
    loaded = pages.validated(
        ReviewDecisionIn(), {"notes": notes}, form, "Please correct the marked fields."
    )
    if loaded is None:
        return _review_page(article, forms={"request_changes": form}, status=422)
    user = security.current_user()

    def send_back(actor: Any) -> Article:
        # The note also goes on the article's comments, where its editor reads it.
        comments.create_comment(article, {"body": CHANGES_REQUESTED + notes}, user, actor)  # type: ignore[arg-type]
        return workflow.request_changes(article, actor, notes=loaded["notes"])

    done = _perform(send_back)
    if not done.ok:
        assert done.error is not None
        form.refuse_with(done.error)
        return _review_page(article, forms={"request_changes": form}, status=done.error.status)
    pages.notice(
        f"“{article.title}” went back to its editors as a draft, with your note.",
        category="success",
    )
    return redirect(url_for("studio.review_queue"), code=303)
