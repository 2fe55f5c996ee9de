"""The reviews readers are told about: the review of record, its reviewers and corrections."""

from __future__ import annotations

from datetime import date, datetime

from cms_api.domain.clock import add_months
from cms_api.models import Article, MedicalReview


def _sort_key(review: MedicalReview) -> tuple[int, date, datetime | None]:
    return (review.revision_number or 0, review.reviewed_at, review.created_at)


def reached_readers(article: Article) -> list[MedicalReview]:
    """Approvals of content readers have seen, newest first.

    An approval counts once the revision it approved went live (`published_at`), or while
    it is the live revision (a preview renders the working copy as if live); an approval
    taken back by request-changes never counts.
    """
    live = article.live_revision
    return sorted(
        (
            review
            for review in article.reviews
            if review.withdrawn_at is None
            and (
                review.published_at is not None
                or (live is not None and review.revision_number == live)
            )
        ),
        key=_sort_key,
        reverse=True,
    )


def of_record(article: Article) -> MedicalReview | None:
    """The latest clinical review readers have seen: what the page's review date states."""
    return next((r for r in reached_readers(article) if r.kind == "clinical"), None)


def record_reviews(article: Article) -> list[MedicalReview]:
    """Each reviewer's clinical approval of the revision of record (trashed reviewers left out,
    as authors are: their profile no longer answers)."""
    record = of_record(article)
    if record is None:
        return []
    seen: set[object] = set()
    found = []
    for review in reached_readers(article):
        if (
            review.kind != "clinical"
            or review.revision_number != record.revision_number
            or review.reviewer_id in seen
            or review.reviewer.deleted_at is not None
        ):
            continue
        seen.add(review.reviewer_id)
        found.append(review)
    return found


def corrections(article: Article) -> list[MedicalReview]:
    """Corrections that went live, newest first, one per revision."""
    seen: set[int | None] = set()
    found = []
    for review in reached_readers(article):
        if review.kind == "correction" and review.revision_number not in seen:
            seen.add(review.revision_number)
            found.append(review)
    return found


def next_due(record: MedicalReview | None, interval_months: int) -> date | None:
    return add_months(record.reviewed_at, interval_months) if record is not None else None
