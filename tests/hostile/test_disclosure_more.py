"""The link report and the audit log tell each reader only what that reader may already see."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, Person, RelatedLink
from cms_api.services.discovery.graph import cache as graph_cache
from tests.conftest import bearer

BOTOX = "headache-after-botox"
SECRET_SLUG = "unannounced-botox-trial"
SECRET_ANCHOR = "our unannounced trial"


@pytest.fixture(autouse=True)
def _cold_cache():
    graph_cache.forget()
    yield
    graph_cache.forget()


def _link_to_a_draft(app) -> None:
    """A live link from a published article to a draft nobody outside may know of."""
    with app.app_context():
        author = db.session.scalars(select(Person)).first()
        draft = Article(
            id=uuid.uuid4(), slug=SECRET_SLUG, title="Secret", summary="Short.", status="draft"
        )
        draft.authorships = [ArticleAuthor(person=author)]
        db.session.add(draft)
        db.session.flush()
        source = db.session.scalar(select(Article.id).where(Article.slug == BOTOX))
        db.session.add(
            RelatedLink(source_id=source, target_id=draft.id, weight=0.5, anchor_text=SECRET_ANCHOR)
        )
        db.session.commit()


def test_the_public_report_names_no_unpublished_target(app, client):
    _link_to_a_draft(app)

    response = client.get("/v1/graph/report")

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert SECRET_SLUG not in body
    assert SECRET_ANCHOR not in body
    assert "draft" not in body
    report = response.get_json()
    assert "broken_links" not in report
    assert "broken_links" not in report["counts"]
    assert report["counts"]["articles"] == 7


def test_editors_find_the_links_to_unpublished_targets_in_the_admin_report(app, client, make_token):
    _link_to_a_draft(app)
    url = "/v1/admin/graph/report"

    assert client.get(url).status_code == 401
    for role in ("editor", "admin", "reviewer", "viewer"):
        response = client.get(url, headers=bearer(make_token(role)))
        assert response.status_code == 200, (role, response.get_json())
        assert response.headers["Cache-Control"] == "no-store"
    report = response.get_json()
    assert report["broken_links"] == [
        {
            "source": BOTOX,
            "target": SECRET_SLUG,
            "relation": "see_also",
            "anchor_text": SECRET_ANCHOR,
            "reason": "target_not_published",
            "target_status": "draft",
        }
    ]
    assert report["counts"]["broken_links"] == 1
    assert report["counts"]["articles"] == 7
    assert client.get(f"{url}?format=csv", headers=bearer(make_token("editor"))).status_code == 400


def _admin_only_events(client, admin: str) -> dict[str, str]:
    """Create a user, a token and a webhook; what each audit entry must not show editors."""
    user = client.post(
        "/v1/admin/users",
        json={"email": "hidden.person@example.org", "name": "Hidden", "role": "viewer"},
        headers=bearer(admin),
    )
    assert user.status_code == 201, user.get_json()
    token = client.post(
        "/v1/admin/tokens",
        json={"user_id": user.get_json()["id"], "name": "laptop"},
        headers=bearer(admin),
    )
    assert token.status_code == 201, token.get_json()
    hook = client.post(
        "/v1/admin/webhooks",
        json={"url": "https://93.184.215.14/secret-purge-hook", "events": ["article.published"]},
        headers=bearer(admin),
    )
    assert hook.status_code == 201, hook.get_json()
    return {
        "email": "hidden.person@example.org",
        "prefix": token.get_json()["prefix"],
        "url": "secret-purge-hook",
    }


def _every_event(client, token: str, query: str = "") -> list[dict]:
    response = client.get(f"/v1/admin/audit?limit=100{query}", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_the_audit_log_hides_from_editors_what_admin_endpoints_hide(client, make_token):
    admin, editor = make_token("admin"), make_token("editor")
    secrets = _admin_only_events(client, admin)

    assert client.get("/v1/admin/users", headers=bearer(editor)).status_code == 403
    events = _every_event(client, editor)
    assert not {event["target_type"] for event in events} & {"user", "token", "webhook"}
    shown = str(events)
    for value in secrets.values():
        assert value not in shown
    for target_type in ("user", "token", "webhook"):
        assert _every_event(client, editor, f"&target_type={target_type}") == []
    page = client.get("/v1/admin/audit?target_type=user", headers=bearer(editor)).get_json()
    assert page["page"]["total"] == 0

    # Admins, who may read users, tokens and webhooks, still see every entry.
    seen = {event["target_type"] for event in _every_event(client, admin)}
    assert {"user", "token", "webhook"} <= seen
    assert secrets["email"] in str(_every_event(client, admin, "&target_type=user"))
