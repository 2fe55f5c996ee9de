"""Webhook signing secrets are encrypted at rest, with keys that rotate."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from cms_api.config import Settings
from cms_api.database import db
from tests.conftest import TEST_SECRET_KEY, bearer, build_app

SECRET = "whsec_a-receiver-chose-this-secret-0123456789"


@pytest.fixture
def webhooks_allowed(app: Flask) -> Iterator[None]:
    original = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(original, webhooks_allow_private=True)
    try:
        yield
    finally:
        app.config["CMS_SETTINGS"] = original


def _stored(app: Flask, endpoint_id: str) -> str:
    with app.app_context():
        return db.session.execute(
            text("SELECT secret FROM webhook_endpoints WHERE id = :id"), {"id": endpoint_id}
        ).scalar_one()


def _register(client, admin_token: str, **extra: str) -> dict:
    created = client.post(
        "/v1/admin/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["article.published"], **extra},
        headers=bearer(admin_token),
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def test_a_secret_is_stored_encrypted_and_decrypts_to_what_signs(
    app, client, admin_token, webhooks_allowed
):
    given = _register(client, admin_token, secret=SECRET)
    stored = _stored(app, given["id"])
    assert SECRET not in stored
    assert Fernet(TEST_SECRET_KEY.encode()).decrypt(stored.encode()).decode() == SECRET

    generated = _register(client, admin_token)
    stored = _stored(app, generated["id"])
    assert generated["secret"] not in stored
    assert (
        Fernet(TEST_SECRET_KEY.encode()).decrypt(stored.encode()).decode() == (generated["secret"])
    )


def test_a_new_secret_is_encrypted_and_the_same_one_changes_nothing(
    app, client, admin_token, webhooks_allowed
):
    from cms_api.services.integrations.webhooks.signing import unseal

    endpoint = _register(client, admin_token, secret=SECRET)
    url = f"/v1/admin/webhooks/{endpoint['id']}"
    etag = client.get(url, headers=bearer(admin_token)).headers["ETag"]
    same = client.patch(
        url, json={"secret": SECRET}, headers={**bearer(admin_token), "If-Match": etag}
    )
    assert same.status_code == 200
    assert same.headers["ETag"] == etag  # nothing changed, so no new version
    renewed = "whsec_" + "n" * 40
    changed = client.patch(
        url, json={"secret": renewed}, headers={**bearer(admin_token), "If-Match": etag}
    )
    assert changed.status_code == 200
    with app.app_context():
        assert unseal(_stored(app, endpoint["id"])) == renewed


def test_rotation_encrypts_every_secret_with_the_first_key(
    app, client, runner, admin_token, webhooks_allowed
):
    endpoint = _register(client, admin_token, secret=SECRET)
    new_key = Fernet.generate_key().decode()
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(
        settings, secret_keys=[new_key, TEST_SECRET_KEY]
    )
    try:
        rotated = runner.invoke(args=["webhooks", "rotate-secrets"])
    finally:
        app.config["CMS_SETTINGS"] = settings
    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted" in rotated.output
    stored = _stored(app, endpoint["id"]).encode()
    assert Fernet(new_key.encode()).decrypt(stored).decode() == SECRET

    # The old key alone no longer reads it: it may leave the list.
    app.config["CMS_SETTINGS"] = dataclasses.replace(settings, secret_keys=[TEST_SECRET_KEY])
    try:
        refused = runner.invoke(args=["webhooks", "rotate-secrets"])
    finally:
        app.config["CMS_SETTINGS"] = settings
    assert refused.exit_code != 0
    assert "CMS_SECRET_KEYS" in refused.output


def test_without_keys_a_development_key_is_made_once_under_the_instance_folder(tmp_path, caplog):
    from cms_api.services.integrations.webhooks.signing import seal, unseal

    settings = Settings(instance_path=str(tmp_path))
    with caplog.at_level(logging.WARNING):
        stored = seal(SECRET, settings)
    assert "CMS_SECRET_KEYS is not set" in caplog.text
    (key_file,) = tmp_path.iterdir()
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert unseal(stored, Settings(instance_path=str(tmp_path))) == SECRET
    assert Fernet(key_file.read_bytes().strip()).decrypt(stored.encode()).decode() == SECRET


def test_keys_are_checked_when_the_settings_are_read():
    key = Fernet.generate_key().decode()
    environ = {"CMS_SECRET_KEYS": f"{key}, {TEST_SECRET_KEY}"}
    assert Settings.from_environ(environ).secret_keys == [key, TEST_SECRET_KEY]
    with pytest.raises(ValueError, match="CMS_SECRET_KEYS entry 2"):
        Settings(secret_keys=[key, "not-a-key"])


def test_the_migration_encrypts_existing_secrets_and_its_downgrade_decrypts_them(
    make_database,
):
    application = build_app(make_database("secrets"))
    endpoint_id = uuid.uuid4()
    insert = text(
        "INSERT INTO webhook_endpoints (id, url, events, secret, active, version,"
        " created_at, updated_at) VALUES (:id, 'https://example.org/hook',"
        " ARRAY['article.published'], :secret, true, 1, now(), now())"
    )
    select = text("SELECT secret FROM webhook_endpoints WHERE id = :id")
    key = Fernet(TEST_SECRET_KEY.encode())
    with application.app_context():
        try:
            upgrade(revision="0007")
            db.session.execute(insert, {"id": endpoint_id, "secret": SECRET})
            db.session.commit()
            upgrade()
            stored = db.session.execute(select, {"id": endpoint_id}).scalar_one()
            assert key.decrypt(stored.encode()).decode() == SECRET
            db.session.commit()
            downgrade(revision="0007")
            assert db.session.execute(select, {"id": endpoint_id}).scalar_one() == SECRET
            db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()
