"""Users are disabled, change role, and hold tokens that expire, over HTTP and from the CLI."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from cms_api.config import Settings
from tests.conftest import bearer


@pytest.fixture
def lifetime(app: Flask) -> Iterator[None]:
    """The running settings with tokens living at most 30 days, restored afterwards."""
    original = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(original, token_max_lifetime_days=30)
    try:
        yield
    finally:
        app.config["CMS_SETTINGS"] = original


def _user(client, admin: str, role: str = "editor", **extra: str) -> dict:
    body = {"email": f"{role}-life@example.org", "name": "Life", "role": role, **extra}
    created = client.post("/v1/admin/users", json=body, headers=bearer(admin))
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _token(client, admin: str, user_id: str, **extra: str):
    return client.post(
        "/v1/admin/tokens",
        json={"user_id": user_id, "name": "laptop", **extra},
        headers=bearer(admin),
    )


def _audit_actions(client, admin: str, user_id: str) -> list[str]:
    listing = client.get(
        f"/v1/admin/audit?target_type=user&target_id={user_id}", headers=bearer(admin)
    )
    assert listing.status_code == 200, listing.get_json()
    return [event["action"] for event in listing.get_json()["items"]]


def test_a_token_cannot_expire_in_the_past(client, admin_token):
    user = _user(client, admin_token)
    past = _token(client, admin_token, user["id"], expires_at="2000-01-01T00:00:00Z")
    assert past.status_code == 422, past.get_json()
    assert "expires_at" in past.get_json()["errors"]["json"]


def test_tokens_expire_by_default_and_no_later_than_the_maximum(client, admin_token, lifetime):
    user = _user(client, admin_token)
    issued = _token(client, admin_token, user["id"])
    assert issued.status_code == 201
    expires = datetime.fromisoformat(issued.get_json()["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)

    later = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    too_late = _token(client, admin_token, user["id"], expires_at=later)
    assert too_late.status_code == 422
    assert "30 days" in too_late.get_json()["detail"]

    sooner = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    assert _token(client, admin_token, user["id"], expires_at=sooner).status_code == 201


def test_disabling_a_user_revokes_every_token_and_enabling_issues_none_back(client, admin_token):
    user = _user(client, admin_token)
    secrets = [_token(client, admin_token, user["id"]).get_json()["token"] for _ in range(2)]
    assert client.get("/v1/admin/articles", headers=bearer(secrets[0])).status_code == 200

    disabled = client.post(f"/v1/admin/users/{user['id']}/disable", headers=bearer(admin_token))
    assert disabled.status_code == 200, disabled.get_json()
    assert disabled.get_json()["disabled_at"]
    assert disabled.headers["ETag"]
    for secret in secrets:
        assert client.get("/v1/admin/articles", headers=bearer(secret)).status_code == 401
    tokens = client.get("/v1/admin/tokens", headers=bearer(admin_token)).get_json()["items"]
    assert all(token["revoked_at"] for token in tokens if token["user_id"] == user["id"])
    while_disabled = _token(client, admin_token, user["id"])
    assert while_disabled.status_code == 201
    assert (
        client.get(
            "/v1/admin/articles", headers=bearer(while_disabled.get_json()["token"])
        ).status_code
        == 401
    )
    again = client.post(f"/v1/admin/users/{user['id']}/disable", headers=bearer(admin_token))
    assert again.status_code == 200

    enabled = client.post(f"/v1/admin/users/{user['id']}/enable", headers=bearer(admin_token))
    assert enabled.status_code == 200
    assert enabled.get_json()["disabled_at"] is None
    assert client.get("/v1/admin/articles", headers=bearer(secrets[0])).status_code == 401
    fresh = _token(client, admin_token, user["id"]).get_json()["token"]
    assert client.get("/v1/admin/articles", headers=bearer(fresh)).status_code == 200

    actions = _audit_actions(client, admin_token, user["id"])
    assert actions.count("user.disable") == 1
    assert actions.count("user.enable") == 1


def test_an_admin_changes_a_users_role_and_name_with_if_match(client, admin_token):
    user = _user(client, admin_token)
    secret = _token(client, admin_token, user["id"]).get_json()["token"]
    url = f"/v1/admin/users/{user['id']}"
    read = client.get(url, headers=bearer(admin_token))
    assert read.status_code == 200
    etag = read.headers["ETag"]

    change = {"role": "viewer", "name": "Now a viewer"}
    assert client.patch(url, json=change, headers=bearer(admin_token)).status_code == 428
    changed = client.patch(url, json=change, headers={**bearer(admin_token), "If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["role"] == "viewer"
    assert changed.get_json()["name"] == "Now a viewer"
    assert changed.headers["ETag"] != etag
    stale = client.patch(
        url, json={"name": "Again"}, headers={**bearer(admin_token), "If-Match": etag}
    )
    assert stale.status_code == 412

    # The new role applies at once: a viewer may read, not write.
    assert client.get("/v1/admin/articles", headers=bearer(secret)).status_code == 200
    write = client.post(
        "/v1/admin/articles", json={"slug": "by-a-viewer", "title": "T"}, headers=bearer(secret)
    )
    assert write.status_code == 403

    current = {**bearer(admin_token), "If-Match": changed.headers["ETag"]}
    no_person = client.patch(url, json={"role": "reviewer"}, headers=current)
    assert no_person.status_code == 422
    reviewer = client.patch(
        url, json={"role": "reviewer", "person": "tobias-lindqvist"}, headers=current
    )
    assert reviewer.status_code == 200
    assert reviewer.get_json()["person"] == "tobias-lindqvist"
    assert "user.update" in _audit_actions(client, admin_token, user["id"])


def test_the_last_active_admin_is_neither_disabled_nor_demoted(client, admin_token):
    me = next(
        user
        for user in client.get("/v1/admin/users", headers=bearer(admin_token)).get_json()["items"]
        if user["role"] == "admin" and user["disabled_at"] is None
    )
    url = f"/v1/admin/users/{me['id']}"
    assert client.post(f"{url}/disable", headers=bearer(admin_token)).status_code == 409
    etag = client.get(url, headers=bearer(admin_token)).headers["ETag"]
    demoted = client.patch(
        url, json={"role": "editor"}, headers={**bearer(admin_token), "If-Match": etag}
    )
    assert demoted.status_code == 409
    assert client.get("/v1/admin/users", headers=bearer(admin_token)).status_code == 200


def test_cli_disables_enables_and_changes_roles(runner, client, make_token):
    admin = make_token("admin")
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli-life@example.org",
            "--name",
            "C",
            "--role",
            "editor",
        ]
    )
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1].split()[-1]

    role = runner.invoke(args=["users", "set-role", "cli-life@example.org", "viewer"])
    assert role.exit_code == 0, role.output
    refused = runner.invoke(args=["users", "set-role", "cli-life@example.org", "reviewer"])
    assert refused.exit_code != 0
    assert "person" in refused.output

    disabled = runner.invoke(args=["users", "disable", "cli-life@example.org"])
    assert disabled.exit_code == 0, disabled.output
    assert "revoked 1 token" in disabled.output
    assert client.get("/v1/admin/articles", headers=bearer(secret)).status_code == 401

    assert runner.invoke(args=["users", "enable", "cli-life@example.org"]).exit_code == 0
    users = client.get("/v1/admin/users", headers=bearer(admin)).get_json()["items"]
    (user,) = [user for user in users if user["email"] == "cli-life@example.org"]
    assert user["role"] == "viewer"
    assert user["disabled_at"] is None


def test_cli_tokens_expire_by_default_and_within_the_maximum(runner, lifetime):
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli-exp@example.org",
            "--name",
            "E",
            "--role",
            "viewer",
        ]
    )
    assert created.exit_code == 0, created.output
    listing = runner.invoke(args=["tokens", "list", "--user", "cli-exp@example.org"])
    assert "expires=-" not in listing.output

    too_long = runner.invoke(
        args=["tokens", "create", "cli-exp@example.org", "--expires-in-days", "31"]
    )
    assert too_long.exit_code != 0
    assert "30 days" in too_long.output


def test_the_maximum_lifetime_is_a_setting_of_at_least_one_day():
    assert Settings().token_max_lifetime_days == 90
    environ = {"CMS_TOKEN_MAX_LIFETIME_DAYS": "7"}
    assert Settings.from_environ(environ).token_max_lifetime_days == 7
    with pytest.raises(ValueError, match="CMS_TOKEN_MAX_LIFETIME_DAYS"):
        Settings(token_max_lifetime_days=0)
