"""The permission matrix: every admin operation, every role, and every kind of bad token."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import ApiToken
from cms_api.services.accounts import users as accounts
from tests.conftest import bearer

ALL = {"admin", "editor", "reviewer", "viewer"}
WRITERS = {"admin", "editor"}

# (method, rule) → the roles that get past authorization. Written out by hand on purpose:
# it is the intended matrix, checked against the code, not read from it.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/v1/admin/articles"): ALL,
    ("POST", "/v1/admin/articles"): WRITERS,
    ("GET", "/v1/admin/articles/<uuid:article_id>"): ALL,
    ("PATCH", "/v1/admin/articles/<uuid:article_id>"): WRITERS,
    ("DELETE", "/v1/admin/articles/<uuid:article_id>"): WRITERS,
    ("PUT", "/v1/admin/articles/<uuid:article_id>/authors"): WRITERS,
    ("POST", "/v1/admin/articles/<uuid:article_id>/restore"): WRITERS,
    ("POST", "/v1/admin/articles/<uuid:article_id>/translations"): WRITERS,
    ("GET", "/v1/admin/articles/<uuid:article_id>/comments"): ALL,
    ("POST", "/v1/admin/articles/<uuid:article_id>/comments"): WRITERS | {"reviewer"},
    ("GET", "/v1/admin/articles/<uuid:article_id>/comments/<uuid:comment_id>"): ALL,
    ("PATCH", "/v1/admin/articles/<uuid:article_id>/comments/<uuid:comment_id>"): WRITERS
    | {"reviewer"},
    ("DELETE", "/v1/admin/articles/<uuid:article_id>/comments/<uuid:comment_id>"): WRITERS
    | {"reviewer"},
    ("GET", "/v1/admin/articles/<uuid:article_id>/presence"): ALL,
    ("PUT", "/v1/admin/articles/<uuid:article_id>/presence"): ALL,
    ("DELETE", "/v1/admin/articles/<uuid:article_id>/presence"): ALL,
    ("POST", "/v1/admin/articles/<uuid:article_id>/submit"): WRITERS,
    ("POST", "/v1/admin/articles/<uuid:article_id>/approve"): {"reviewer"},
    ("POST", "/v1/admin/articles/<uuid:article_id>/request-changes"): {"reviewer"},
    ("POST", "/v1/admin/articles/<uuid:article_id>/publish"): WRITERS,
    ("POST", "/v1/admin/articles/<uuid:article_id>/unpublish"): WRITERS,
    ("POST", "/v1/admin/articles/<uuid:article_id>/archive"): WRITERS,
    ("GET", "/v1/admin/articles/<uuid:article_id>/revisions"): ALL,
    ("GET", "/v1/admin/articles/<uuid:article_id>/revisions/<int:number>"): ALL,
    ("GET", "/v1/admin/articles/<uuid:article_id>/revisions/<int:number>/diff"): ALL,
    ("POST", "/v1/admin/articles/<uuid:article_id>/revisions/<int:number>/restore"): WRITERS,
    ("GET", "/v1/admin/reviews/due"): ALL,
    ("GET", "/v1/admin/graph/report"): ALL,
    ("GET", "/v1/admin/audit"): WRITERS,
    ("GET", "/v1/admin/users"): {"admin"},
    ("POST", "/v1/admin/users"): {"admin"},
    ("GET", "/v1/admin/users/<uuid:user_id>"): {"admin"},
    ("PATCH", "/v1/admin/users/<uuid:user_id>"): {"admin"},
    ("POST", "/v1/admin/users/<uuid:user_id>/disable"): {"admin"},
    ("POST", "/v1/admin/users/<uuid:user_id>/enable"): {"admin"},
    ("GET", "/v1/admin/tokens"): {"admin"},
    ("POST", "/v1/admin/tokens"): {"admin"},
    ("POST", "/v1/admin/tokens/<uuid:token_id>/revoke"): {"admin"},
    ("GET", "/v1/admin/faqs"): ALL,
    ("POST", "/v1/admin/faqs"): WRITERS,
    ("GET", "/v1/admin/faqs/<uuid:faq_id>"): ALL,
    ("PATCH", "/v1/admin/faqs/<uuid:faq_id>"): WRITERS,
    ("DELETE", "/v1/admin/faqs/<uuid:faq_id>"): WRITERS,
    ("POST", "/v1/admin/faqs/<uuid:faq_id>/restore"): WRITERS,
    ("POST", "/v1/admin/faqs/<uuid:faq_id>/submit"): WRITERS,
    ("POST", "/v1/admin/faqs/<uuid:faq_id>/approve"): {"reviewer"},
    ("POST", "/v1/admin/faqs/<uuid:faq_id>/request-changes"): {"reviewer"},
    ("GET", "/v1/admin/red-flags"): ALL,
    ("POST", "/v1/admin/red-flags"): WRITERS,
    ("GET", "/v1/admin/red-flags/<uuid:red_flag_id>"): ALL,
    ("PATCH", "/v1/admin/red-flags/<uuid:red_flag_id>"): WRITERS,
    ("DELETE", "/v1/admin/red-flags/<uuid:red_flag_id>"): WRITERS,
    ("POST", "/v1/admin/red-flags/<uuid:red_flag_id>/restore"): WRITERS,
    ("POST", "/v1/admin/red-flags/<uuid:red_flag_id>/submit"): WRITERS,
    ("POST", "/v1/admin/red-flags/<uuid:red_flag_id>/approve"): {"reviewer"},
    ("POST", "/v1/admin/red-flags/<uuid:red_flag_id>/request-changes"): {"reviewer"},
    ("POST", "/v1/admin/red-flags/<uuid:red_flag_id>/publish"): WRITERS,
    ("POST", "/v1/admin/red-flags/<uuid:red_flag_id>/unpublish"): WRITERS,
    ("GET", "/v1/admin/people"): ALL,
    ("POST", "/v1/admin/people"): WRITERS,
    ("GET", "/v1/admin/people/<uuid:person_id>"): ALL,
    ("PATCH", "/v1/admin/people/<uuid:person_id>"): WRITERS,
    ("DELETE", "/v1/admin/people/<uuid:person_id>"): WRITERS,
    ("POST", "/v1/admin/people/<uuid:person_id>/restore"): WRITERS,
    ("GET", "/v1/admin/people/<uuid:person_id>/translations"): ALL,
    ("GET", "/v1/admin/people/<uuid:person_id>/translations/<locale:locale>"): ALL,
    ("PUT", "/v1/admin/people/<uuid:person_id>/translations/<locale:locale>"): WRITERS,
    ("DELETE", "/v1/admin/people/<uuid:person_id>/translations/<locale:locale>"): WRITERS,
    ("GET", "/v1/admin/images"): ALL,
    ("POST", "/v1/admin/images"): WRITERS,
    ("GET", "/v1/admin/images/<uuid:image_id>"): ALL,
    ("PATCH", "/v1/admin/images/<uuid:image_id>"): WRITERS,
    ("DELETE", "/v1/admin/images/<uuid:image_id>"): WRITERS,
    ("POST", "/v1/admin/images/<uuid:image_id>/restore"): WRITERS,
    ("GET", "/v1/admin/topics"): ALL,
    ("POST", "/v1/admin/topics"): WRITERS,
    ("GET", "/v1/admin/topics/<uuid:topic_id>"): ALL,
    ("PATCH", "/v1/admin/topics/<uuid:topic_id>"): WRITERS,
    ("DELETE", "/v1/admin/topics/<uuid:topic_id>"): WRITERS,
    ("POST", "/v1/admin/topics/<uuid:topic_id>/restore"): WRITERS,
    ("GET", "/v1/admin/topics/<uuid:topic_id>/translations"): ALL,
    ("GET", "/v1/admin/topics/<uuid:topic_id>/translations/<locale:locale>"): ALL,
    ("PUT", "/v1/admin/topics/<uuid:topic_id>/translations/<locale:locale>"): WRITERS,
    ("DELETE", "/v1/admin/topics/<uuid:topic_id>/translations/<locale:locale>"): WRITERS,
    ("GET", "/v1/admin/articles/<uuid:article_id>/links"): ALL,
    ("POST", "/v1/admin/articles/<uuid:article_id>/links"): WRITERS,
    ("GET", "/v1/admin/links/<uuid:link_id>"): ALL,
    ("PATCH", "/v1/admin/links/<uuid:link_id>"): WRITERS,
    ("DELETE", "/v1/admin/links/<uuid:link_id>"): WRITERS,
    ("POST", "/v1/admin/links/<uuid:link_id>/restore"): WRITERS,
    ("GET", "/v1/admin/articles/<uuid:article_id>/link-suggestions"): ALL,
    (
        "POST",
        "/v1/admin/articles/<uuid:article_id>/link-suggestions/<uuid:target_id>/accept",
    ): WRITERS,
    ("POST", "/v1/admin/articles/<uuid:article_id>/preview-tokens"): WRITERS,
    ("GET", "/v1/admin/articles/<uuid:article_id>/preview-tokens"): WRITERS,
    ("GET", "/v1/admin/preview-tokens/<uuid:token_id>"): WRITERS,
    ("POST", "/v1/admin/preview-tokens/<uuid:token_id>/revoke"): WRITERS,
    ("GET", "/v1/admin/export"): {"admin"},
    ("POST", "/v1/admin/import"): {"admin"},
    ("GET", "/v1/admin/questions"): ALL,
    ("GET", "/v1/admin/questions/<uuid:question_id>"): ALL,
    ("POST", "/v1/admin/questions/<uuid:question_id>/answer"): WRITERS,
    ("POST", "/v1/admin/questions/<uuid:question_id>/reject"): WRITERS,
    ("POST", "/v1/admin/questions/<uuid:question_id>/promote"): WRITERS,
    ("GET", "/v1/admin/unanswered"): ALL,
    ("POST", "/v1/admin/unanswered/<uuid:unanswered_id>/dismiss"): WRITERS,
    ("GET", "/v1/admin/webhooks"): {"admin"},
    ("POST", "/v1/admin/webhooks"): {"admin"},
    ("GET", "/v1/admin/webhooks/<uuid:webhook_id>"): {"admin"},
    ("PATCH", "/v1/admin/webhooks/<uuid:webhook_id>"): {"admin"},
    ("DELETE", "/v1/admin/webhooks/<uuid:webhook_id>"): {"admin"},
    ("GET", "/v1/admin/webhooks/<uuid:webhook_id>/deliveries"): {"admin"},
    (
        "POST",
        "/v1/admin/webhooks/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/redeliver",
    ): {"admin"},
    ("POST", "/v1/admin/webhooks/<uuid:webhook_id>/ping"): {"admin"},
}


def _admin_operations(app) -> list[tuple[str, str]]:
    operations = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/v1/admin"):
            operations += [(method, rule.rule) for method in rule.methods - {"HEAD", "OPTIONS"}]
    return sorted(operations)


def _url(rule: str) -> str:
    url = re.sub(r"<uuid:[a-z_]+>", str(uuid.uuid4()), rule)
    url = re.sub(r"<locale:locale>", "es", url)
    return re.sub(r"<int:[a-z_]+>", "1", url)


def test_every_admin_operation_is_in_the_matrix(app):
    missing = [op for op in _admin_operations(app) if op not in MATRIX]
    assert missing == [], "add each new admin operation to MATRIX with its intended roles"


@pytest.fixture
def bad_tokens(app, make_token) -> dict[str, str]:
    expired, revoked = make_token("admin"), make_token("admin")
    with app.app_context():
        for secret, change in ((expired, "expire"), (revoked, "revoke")):
            token = db.session.query(ApiToken).filter_by(digest=accounts.token_digest(secret)).one()
            if change == "expire":
                token.expires_at = utcnow() - timedelta(seconds=1)
            else:
                accounts.revoke_token(token)
        db.session.commit()
    return {
        "expired": expired,
        "revoked": revoked,
        "garbage": "cms_" + "x" * 43,
        "not ours": "Bearer-looking-but-not-a-token",
    }


def test_requests_without_a_good_token_are_401(app, client, bad_tokens):
    for method, rule in _admin_operations(app):
        url = _url(rule)
        response = client.open(url, method=method, json={})
        assert response.status_code == 401, (method, rule)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.content_type == "application/problem+json"
        for name, secret in bad_tokens.items():
            response = client.open(url, method=method, json={}, headers=bearer(secret))
            assert response.status_code == 401, (method, rule, name)
        basic = client.open(url, method=method, json={}, headers={"Authorization": "Basic eDp5"})
        assert basic.status_code == 401


def test_each_role_gets_exactly_its_operations(app, client, make_token):
    tokens = {role: make_token(role) for role in sorted(ALL)}
    for method, rule in _admin_operations(app):
        url = _url(rule)
        for role, secret in tokens.items():
            response = client.open(url, method=method, json={}, headers=bearer(secret))
            if role in MATRIX[(method, rule)]:
                assert response.status_code not in (401, 403), (method, rule, role)
                assert response.status_code < 500, (method, rule, role)
            else:
                assert response.status_code == 403, (method, rule, role)
                assert response.get_json()["type"] == "/problems/forbidden"


def test_admin_responses_are_never_cached(client, make_token):
    response = client.get("/v1/admin/articles", headers=bearer(make_token("viewer")))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_token_records_when_it_was_last_used(app, client, make_token):
    secret = make_token("viewer")
    client.get("/v1/admin/articles", headers=bearer(secret))
    with app.app_context():
        token = db.session.query(ApiToken).filter_by(digest=accounts.token_digest(secret)).one()
        assert token.last_used_at is not None
