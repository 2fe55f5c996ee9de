"""The webhook service: address checks, the outbox written with each change, event payloads."""

from __future__ import annotations

import json
import socket
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import (
    Article,
    ArticleAuthor,
    Person,
    PublishedDocument,
    WebhookDelivery,
)
from cms_api.ratelimit import limiter
from cms_api.services.accounts.audit import Actor
from cms_api.services.integrations.webhooks import endpoints, worker
from cms_api.services.integrations.webhooks.addresses import UrlRefused, check_url
from cms_api.services.publishing import outbox
from cms_api.services.publishing.articles import publish_article, unpublish_article

ARTICLE = "headache-after-botox"
ALL_EVENTS = list(endpoints.EVENTS)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("https://127.0.0.1/hook", "a loopback address"),
        ("https://169.254.169.254/latest/meta-data", "a link-local address"),
        ("https://[::1]/hook", "a loopback address"),
        (
            "https://[::ffff:127.0.0.1]/hook",
            "::ffff:7f00:1 is a loopback address (it embeds 127.0.0.1)",
        ),
        ("https://[::ffff:a9fe:a9fe]/hook", "a link-local address (it embeds 169.254.169.254)"),
        ("https://[fe80::1]/hook", "a link-local address"),
        ("https://0.0.0.0/hook", "an unspecified address"),
        ("https://[::]/hook", "an unspecified address"),
        ("https://192.168.1.20:8443/hook", "a private address"),
        ("https://172.16.0.1/hook", "a private address"),
        ("https://[fd00::1]/hook", "a private address"),
        ("https://100.64.0.1/hook", "not a public address"),
        ("https://224.0.0.1/hook", "a multicast address"),
        ("https://[ff02::1]/hook", "a multicast address"),
        ("https://[2002:7f00:1::1]/hook", "a loopback address (it embeds 127.0.0.1)"),
        ("https://[64:ff9b::a00:1]/hook", "a private address (it embeds 10.0.0.1)"),
        ("https://[::127.0.0.1]/hook", "a loopback address (it embeds 127.0.0.1)"),
        ("https://localhost/hook", "resolves to 127.0.0.1, which is a loopback address"),
        ("https://2130706433/hook", "resolves to 127.0.0.1, which is a loopback address"),
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(url, reason):
    with pytest.raises(UrlRefused) as refused:
        check_url(url, private_allowed=False)

    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.215.14/hook", "Must be an https URL."),
        ("ftp://93.184.215.14/hook", "Must be an https URL."),
        ("https://user:pw@93.184.215.14/hook", "Must not carry credentials"),
        ("https://93.184.215.14:0/hook", "The port is not a number"),
        ("https://93.184.215.14:99999/hook", "The port is not a number"),
        ("https:///hook", "Must name a host."),
        ("https://exa mple.org/", "Must be printable ASCII"),
        ("https://93.184.215.14/hook\n", "Must be printable ASCII"),
        ("https://bücher.example/", "Must be printable ASCII"),
        ("https://no-such-host.invalid/", "does not resolve"),
    ],
)
def test_malformed_urls_are_refused(url, message):
    with pytest.raises(UrlRefused, match=message):
        check_url(url, private_allowed=False)


def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch):
    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(UrlRefused) as refused:
        check_url("https://hooks.example.org/", private_allowed=False)

    assert "resolves to 10.1.2.3, which is a private address" in str(refused.value)


def test_public_addresses_are_accepted_without_sending_anything():
    target = check_url("https://93.184.215.14:8443/hooks/cms?x=1", private_allowed=False)
    assert target.addresses == ["93.184.215.14"]
    assert target.host_header == "93.184.215.14:8443"
    assert target.path == "/hooks/cms?x=1"

    target = check_url("https://[2606:4700:4700::1111]/hook", private_allowed=False)
    assert target.addresses == ["2606:4700:4700::1111"]
    assert target.port == 443


def test_the_allow_private_setting_admits_loopback_and_http():
    target = check_url("http://127.0.0.1:8080/hook", private_allowed=True)

    assert target.addresses == ["127.0.0.1"]
    assert target.scheme == "http"


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap():
    policy = worker.RetryPolicy(base_seconds=30, cap_seconds=3600, max_attempts=12)

    for attempt, ceiling in ((1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (11, 3600)):
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), attempt
        assert len(set(delays)) > 1  # jittered


# -- the outbox ------------------------------------------------------------------------------


def _endpoint(events: list[str], *, active: bool = True) -> uuid.UUID:
    endpoint, _ = endpoints.create_endpoint(
        {"url": "https://93.184.215.14/hook", "events": events, "active": active},
        Actor(user_id=None),
    )
    db.session.commit()
    return endpoint.id


def _payloads(endpoint_id: uuid.UUID) -> list[dict]:
    bodies = db.session.scalars(
        select(WebhookDelivery.body)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.created_at)
    ).all()
    return [json.loads(body) for body in bodies]


def _article_id(slug: str) -> uuid.UUID:
    article_id = db.session.scalar(select(Article.id).where(Article.slug == slug))
    assert article_id is not None
    return article_id


def test_a_rolled_back_unpublish_leaves_no_outbox_row(app):
    with app.app_context():
        endpoint_id = _endpoint(["article.unpublished"])
        unpublish_article(_article_id(ARTICLE))
        assert len(_payloads(endpoint_id)) == 1  # written, in the same transaction
        db.session.rollback()

        assert _payloads(endpoint_id) == []


def test_a_committed_unpublish_queues_the_event_with_surrogate_keys(app):
    with app.app_context():
        endpoint_id = _endpoint(["article.unpublished"])
        article_id = _article_id(ARTICLE)
        tags = db.session.scalar(
            select(PublishedDocument.tags).where(
                PublishedDocument.kind == "article", PublishedDocument.entity_id == article_id
            )
        )
        authors = db.session.scalars(
            select(Person.slug)
            .join(ArticleAuthor, ArticleAuthor.person_id == Person.id)
            .where(ArticleAuthor.article_id == article_id)
        ).all()
        unpublish_article(article_id)
        db.session.commit()

        (payload,) = _payloads(endpoint_id)

    assert payload["type"] == "article.unpublished"
    assert payload["data"]["id"] == str(article_id)
    assert payload["data"]["slug"] == ARTICLE
    assert payload["data"]["locale"] == "en"
    assert payload["data"]["url"] == f"/v1/articles/{ARTICLE}"
    assert payload["data"]["action"] == "unpublished"
    keys = set(payload["surrogate_keys"])
    # The document is gone: the keys come from the article's people and topics, and
    # cover everything the published document named.
    published_keys = {tag for tag in tags if tag.startswith("topic:")} | {
        f"person:{tag.split(':', 1)[1]}" for tag in tags if tag.startswith(("author:", "reviewer:"))
    }
    assert f"article:{article_id}" in keys
    assert {f"person:{slug}" for slug in authors} <= keys
    assert published_keys <= keys


def test_publishing_queues_one_event_per_subscribed_endpoint_with_the_documents_keys(app):
    with app.app_context():
        article_id = _article_id(ARTICLE)
        unpublish_article(article_id, status="approved")
        db.session.commit()
        subscribed = _endpoint(["article.published"])
        other = _endpoint(["article.deleted"])
        paused = _endpoint(["article.published"], active=False)

        publish_article(article_id)
        db.session.commit()

        tags = db.session.scalar(
            select(PublishedDocument.tags).where(PublishedDocument.entity_id == article_id)
        )
        (payload,) = _payloads(subscribed)
        assert _payloads(other) == []
        assert _payloads(paused) == []

    assert payload["type"] == "article.published"
    expected = {f"article:{article_id}"}
    for tag in tags:
        kind, _, value = tag.partition(":")
        if kind == "topic":
            expected.add(tag)
        elif kind in ("author", "reviewer"):
            expected.add(f"person:{value}")
    assert set(payload["surrogate_keys"]) == expected
    assert any(key.startswith("topic:") for key in expected)
    assert any(key.startswith("person:") for key in expected)


SPANISH = "dolor-de-cabeza-despues-del-botox"


def test_a_translations_events_name_its_locale_and_where_it_is_read(app, client):
    with app.app_context():
        translation_id = db.session.scalar(
            select(Article.id).where(Article.locale == "es", Article.slug == SPANISH)
        )
        assert translation_id is not None
        endpoint_id = _endpoint(["article.published", "article.unpublished"])
        unpublish_article(translation_id, status="approved")
        publish_article(translation_id)
        db.session.commit()

        unpublished, published = _payloads(endpoint_id)

    assert [unpublished["type"], published["type"]] == ["article.unpublished", "article.published"]
    for payload in (unpublished, published):
        assert payload["data"]["id"] == str(translation_id)
        assert payload["data"]["slug"] == SPANISH
        assert payload["data"]["locale"] == "es"
        assert payload["data"]["url"] == f"/v1/articles/{SPANISH}?locale=es"
        assert f"article:{translation_id}" in payload["surrogate_keys"]
    assert client.get(published["data"]["url"]).status_code == 200


def test_a_reader_question_queues_question_received_without_the_email(app, client):
    limiter.reset()
    with app.app_context():
        endpoint_id = _endpoint(["question.received"])

    response = client.post(
        "/v1/questions",
        json={
            "question": "Can a headache after Botox start a week later?",
            "article": ARTICLE,
            "email": "reader@example.org",
        },
    )
    assert response.status_code == 202

    with app.app_context():
        (payload,) = _payloads(endpoint_id)
    assert payload["type"] == "question.received"
    assert payload["data"]["question"] == "Can a headache after Botox start a week later?"
    assert payload["data"]["article"] == ARTICLE
    assert payload["data"]["topic"] is None
    assert "reader@example.org" not in json.dumps(payload)
    assert payload["surrogate_keys"] == []
    limiter.reset()


def test_review_due_is_queued_once_per_article_and_due_date(app, runner):
    with app.app_context():
        endpoint_id = _endpoint(["review.due"])
        article = db.session.scalars(select(Article).where(Article.slug == ARTICLE)).one()
        article.next_review_due = date.today() - timedelta(days=2)
        db.session.commit()

    first = runner.invoke(args=["webhooks", "notify-reviews-due"])
    again = runner.invoke(args=["webhooks", "notify-reviews-due"])

    assert first.exit_code == 0, first.output
    assert "Queued 1 review.due delivery." in first.output
    assert "Queued 0 review.due deliveries." in again.output
    with app.app_context():
        (payload,) = _payloads(endpoint_id)
        assert payload["data"]["slug"] == ARTICLE
        assert payload["data"]["locale"] == "en"
        assert payload["data"]["url"] == f"/v1/articles/{ARTICLE}"
        assert payload["data"]["next_review_due"] == str(date.today() - timedelta(days=2))

        # A new due date is a new notice.
        article = db.session.scalars(select(Article).where(Article.slug == ARTICLE)).one()
        article.next_review_due = date.today()
        db.session.commit()
    third = runner.invoke(args=["webhooks", "notify-reviews-due"])
    assert "Queued 1 review.due delivery." in third.output


def test_deleting_an_endpoint_cancels_what_was_queued_and_erases_the_secret(app):
    with app.app_context():
        endpoint_id = _endpoint(ALL_EVENTS)
        outbox.emit("review.due", {"id": "x"})
        endpoint = endpoints.get_endpoint(endpoint_id, for_update=True)
        endpoints.delete_endpoint(endpoint, Actor(user_id=None))
        db.session.commit()

        statuses = db.session.scalars(
            select(WebhookDelivery.status).where(WebhookDelivery.endpoint_id == endpoint_id)
        ).all()
        assert statuses == ["cancelled"]
        assert endpoint.secret == ""
        assert outbox.emit("review.due", {"id": "y"}) == 0
