"""The app as configured: CORS for any or listed origins; a trusted proxy's client address."""

from __future__ import annotations

from cms_api.config import Settings
from tests.conftest import build_app


def test_cors_allows_any_origin_by_default(client):
    response = client.get("/v1/articles", headers={"Origin": "https://frontend.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_cors_allows_only_configured_origins(app):
    settings = Settings(
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
        cors_origins=["https://www.example-health.org"],
    )
    client = build_app(app.config["SQLALCHEMY_DATABASE_URI"], CMS_SETTINGS=settings).test_client()

    allowed = client.get("/healthz", headers={"Origin": "https://www.example-health.org"})
    other = client.get("/healthz", headers={"Origin": "https://evil.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://www.example-health.org"
    assert "Access-Control-Allow-Origin" not in other.headers


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(app):
    settings = Settings(
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
        trusted_proxies=1,
        question_rate_limit="1 per minute",
    )
    client = build_app(app.config["SQLALCHEMY_DATABASE_URI"], CMS_SETTINGS=settings).test_client()
    question = {"question": "Is a mild headache after Botox normal?"}

    def ask(forwarded_for: str) -> int:
        return client.post(
            "/v1/questions", json=question, headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    assert ask("203.0.113.7") == 202
    assert ask("203.0.113.7") == 429
    assert ask("198.51.100.23") == 202, "another reader behind the same balancer"
