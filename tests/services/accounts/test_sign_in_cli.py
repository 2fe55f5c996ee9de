"""`cms-api users set-password`, `users login-link`, `users disable` and serve's studio link."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from cms_api.cli.serve import SAMPLE_ADMIN_EMAIL, _print_studio_link
from cms_api.database import db
from cms_api.services.accounts import sessions, sign_in, users

PASSWORD = "a long enough passphrase"


def _user(app: Flask, role: str = "editor") -> str:
    email = f"cli-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        users.create_user(email=email, name="CLI", role=role)
        db.session.commit()
    return email


def test_set_password_from_stdin_then_sign_in(app: Flask, runner: FlaskCliRunner) -> None:
    email = _user(app)
    result = runner.invoke(
        args=["users", "set-password", email, "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert f"Set the password of {email}" in result.output
    with app.app_context():
        assert sign_in.attempt(email, PASSWORD).signed_in


def test_set_password_prompts_twice_and_refuses_a_mismatch(
    app: Flask, runner: FlaskCliRunner
) -> None:
    email = _user(app)
    mismatch = runner.invoke(
        args=["users", "set-password", email], input=f"{PASSWORD}\nsomething else entirely\n"
    )
    assert mismatch.exit_code != 0
    with app.app_context():
        assert not sign_in.attempt(email, PASSWORD).signed_in
    matched = runner.invoke(
        args=["users", "set-password", email], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert matched.exit_code == 0, matched.output
    assert PASSWORD not in matched.output


def test_set_password_refuses_a_short_one(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "set-password", _user(app), "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output


def test_set_password_of_an_unknown_user(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "set-password", "nobody@example.org", "--password-stdin"], input=PASSWORD
    )
    assert result.exit_code == 1
    assert "No user" in result.output


def test_login_link_prints_a_link_under_the_api_base_url(
    app: Flask, runner: FlaskCliRunner
) -> None:
    email = _user(app)
    result = runner.invoke(args=["users", "login-link", email])
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert url.startswith("http://localhost/studio/sign-in/link?token=")
    with app.app_context():
        found = sign_in.redeem_login_link(url.split("token=", 1)[1])
        assert found is not None and found.email == email


def test_disabling_a_user_ends_their_studio_sessions(app: Flask, runner: FlaskCliRunner) -> None:
    email = _user(app)
    with app.app_context():
        issued = sessions.start(users.find_user(email), method="link")
        db.session.commit()
    result = runner.invoke(args=["users", "disable", email])
    assert result.exit_code == 0, result.output
    assert "ended 1 studio session" in result.output
    with app.app_context():
        assert sessions.resolve(issued.secret) is None


def test_serve_prints_a_sign_in_link_for_the_sample_admin(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    with app.app_context():
        _print_studio_link()
        _print_studio_link()  # a second start makes a new link for the same admin
        admin = users.find_user(SAMPLE_ADMIN_EMAIL)
        assert admin is not None and admin.role == "admin"
    links = [line.strip() for line in capsys.readouterr().out.splitlines() if "token=" in line]
    assert len(links) == 2 and links[0] != links[1]
    with app.app_context():
        found = sign_in.redeem_login_link(links[1].split("token=", 1)[1])
        assert found is not None and found.email == SAMPLE_ADMIN_EMAIL
