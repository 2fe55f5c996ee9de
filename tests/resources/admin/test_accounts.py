"""Users and tokens, over HTTP (admins) and from the command line."""

from __future__ import annotations

from tests.conftest import bearer


def test_admin_creates_a_user_and_a_token_that_works_until_revoked(client, make_token):
    admin = make_token("admin")

    created = client.post(
        "/v1/admin/users",
        json={"email": "New.Editor@Example.org", "name": "New Editor", "role": "editor"},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.get_json()
    user = created.get_json()
    assert user["email"] == "new.editor@example.org"

    issued = client.post(
        "/v1/admin/tokens", json={"user_id": user["id"], "name": "laptop"}, headers=bearer(admin)
    )
    assert issued.status_code == 201
    secret = issued.get_json()["token"]
    assert secret.startswith("cms_")
    listed = client.get("/v1/admin/tokens", headers=bearer(admin)).get_json()["items"]
    assert all("token" not in item and "digest" not in item for item in listed)
    assert issued.get_json()["prefix"] in {item["prefix"] for item in listed}

    assert client.get("/v1/admin/articles", headers=bearer(secret)).status_code == 200
    revoke = client.post(
        f"/v1/admin/tokens/{issued.get_json()['id']}/revoke", headers=bearer(admin)
    )
    assert revoke.status_code == 200
    assert revoke.get_json()["revoked_at"]
    assert client.get("/v1/admin/articles", headers=bearer(secret)).status_code == 401

    duplicate = client.post(
        "/v1/admin/users",
        json={"email": "new.editor@example.org", "name": "Again", "role": "viewer"},
        headers=bearer(admin),
    )
    assert duplicate.status_code == 409


def test_a_reviewer_must_be_a_person_with_credentials(client, make_token):
    admin = make_token("admin")
    missing = client.post(
        "/v1/admin/users",
        json={"email": "r@example.org", "name": "R", "role": "reviewer"},
        headers=bearer(admin),
    )
    assert missing.status_code == 422
    linked = client.post(
        "/v1/admin/users",
        json={
            "email": "r@example.org",
            "name": "R",
            "role": "reviewer",
            "person": "tobias-lindqvist",
        },
        headers=bearer(admin),
    )
    assert linked.status_code == 201
    assert linked.get_json()["person"] == "tobias-lindqvist"


def test_cli_creates_users_and_manages_tokens(runner):
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli@example.org",
            "--name",
            "CLI Admin",
            "--role",
            "admin",
        ]
    )
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1].split()[-1]
    assert secret.startswith("cms_")

    issued = runner.invoke(
        args=["tokens", "create", "cli@example.org", "--name", "ci", "--expires-in-days", "7"]
    )
    assert issued.exit_code == 0, issued.output
    token_id = issued.output.split()[1]

    listing = runner.invoke(args=["tokens", "list", "--user", "cli@example.org"])
    assert token_id in listing.output
    assert "active" in listing.output
    assert secret not in listing.output

    revoked = runner.invoke(args=["tokens", "revoke", token_id])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output

    refused = runner.invoke(
        args=["users", "create", "--email", "x@example.org", "--name", "X", "--role", "reviewer"]
    )
    assert refused.exit_code != 0
    assert "person" in refused.output
