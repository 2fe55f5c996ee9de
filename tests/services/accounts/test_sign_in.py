"""Studio sign-in: argon2 passwords, lockout after failures, one-time links, sessions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles
from flask import Flask
from sqlalchemy import func, select, update

from cms_api.config import Settings
from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import ValidationFailed
from cms_api.models import AuditEvent, LoginLink, StudioSession, User
from cms_api.services.accounts import sessions, sign_in, users
from tests.conftest import build_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def user(ctx: None) -> User:
    created = users.create_user(email="Ada@Example.org", name="Ada", role="editor")
    sign_in.set_password(created, PASSWORD)
    db.session.flush()
    db.session.refresh(created)
    return created


def _actions(user_id: object) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target_id == str(user_id))
            .order_by(AuditEvent.id)
        )
    )


def test_a_password_is_stored_as_an_argon2id_hash(user: User) -> None:
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert "user.password_set" in _actions(user.id)


def test_setting_a_password_does_not_change_the_users_version(ctx: None) -> None:
    created = users.create_user(email="v@example.org", name="V", role="editor")
    db.session.flush()
    version = created.version
    sign_in.set_password(created, PASSWORD)
    db.session.refresh(created)
    assert created.version == version


@pytest.mark.parametrize("password", ["short", "x" * 11, "y" * 1025])
def test_a_password_too_short_or_too_long_is_refused(user: User, password: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        sign_in.set_password(user, password)
    assert "password" in refused.value.extra["errors"]["json"]


def test_the_right_password_signs_in_whatever_the_case_of_the_address(user: User) -> None:
    outcome = sign_in.attempt("  ADA@example.ORG ", PASSWORD)
    assert outcome.signed_in
    assert outcome.user is not None and outcome.user.id == user.id


def test_a_wrong_password_is_counted_and_audited(user: User) -> None:
    outcome = sign_in.attempt("ada@example.org", "not the password")
    assert not outcome.signed_in
    assert outcome.reason == "wrong-password"
    db.session.refresh(user)
    assert user.failed_sign_ins == 1
    assert "user.sign_in_failed" in _actions(user.id)


def test_the_fifth_failure_in_a_window_locks_the_account(user: User) -> None:
    for _ in range(sign_in.MAX_FAILURES):
        assert sign_in.attempt("ada@example.org", "wrong guess").reason == "wrong-password"
    db.session.refresh(user)
    assert user.locked_until is not None and user.locked_until > utcnow()
    assert "user.locked" in _actions(user.id)
    # Locked: even the right password is refused, for the same generic reason outside.
    outcome = sign_in.attempt("ada@example.org", PASSWORD)
    assert not outcome.signed_in
    assert outcome.reason == "locked"


def test_a_lock_ends_when_it_says(user: User) -> None:
    db.session.execute(
        update(User).where(User.id == user.id).values(locked_until=utcnow() - timedelta(seconds=1))
    )
    assert sign_in.attempt("ada@example.org", PASSWORD).signed_in
    db.session.refresh(user)
    assert user.locked_until is None
    assert user.failed_sign_ins == 0


def test_failures_older_than_the_window_start_the_count_again(user: User) -> None:
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            failed_sign_ins=sign_in.MAX_FAILURES - 1,
            failed_since=utcnow() - sign_in.FAILURE_WINDOW - timedelta(minutes=1),
        )
    )
    sign_in.attempt("ada@example.org", "wrong guess")
    db.session.refresh(user)
    assert user.locked_until is None
    assert user.failed_sign_ins == 1


def test_a_success_clears_the_count(user: User) -> None:
    sign_in.attempt("ada@example.org", "wrong guess")
    sign_in.attempt("ada@example.org", PASSWORD)
    db.session.refresh(user)
    assert user.failed_sign_ins == 0


def test_a_disabled_user_cannot_sign_in(user: User) -> None:
    users.disable_user(user)
    outcome = sign_in.attempt("ada@example.org", PASSWORD)
    assert not outcome.signed_in
    assert outcome.reason == "disabled"


def test_a_user_without_a_password_cannot_sign_in_with_any(ctx: None) -> None:
    users.create_user(email="nopass@example.org", name="No", role="editor")
    assert not sign_in.attempt("nopass@example.org", "").signed_in
    assert not sign_in.attempt("nopass@example.org", "anything at all").signed_in


class _CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(**_parameters(profiles.CHEAPEST))
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


def _parameters(chosen: object) -> dict[str, object]:
    fields = ("time_cost", "memory_cost", "parallelism", "hash_len", "salt_len")
    return {name: getattr(chosen, name) for name in fields}


def test_an_unknown_address_costs_an_argon2_verification_too(
    ctx: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = _CountingHasher()
    monkeypatch.setitem(sign_in.HASHERS, "insecure-fast-for-tests", hasher)
    outcome = sign_in.attempt("nobody@example.org", PASSWORD)
    assert outcome.reason == "unknown"
    assert hasher.verified == 1
    recorded = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "user.sign_in_failed")
        .order_by(AuditEvent.id.desc())
    )
    assert recorded is not None and recorded.after == {
        "reason": "unknown",
        "email": "nobody@example.org",
    }


@pytest.fixture
def production_cost(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app hashes with the default cost, as in production, for one test."""
    settings = app.config["CMS_SETTINGS"]
    default = Settings().password_hashing
    monkeypatch.setitem(
        app.config, "CMS_SETTINGS", dataclasses.replace(settings, password_hashing=default)
    )


def test_by_default_passwords_are_hashed_with_rfc_9106s_low_memory_profile(
    production_cost: None, ctx: None
) -> None:
    assert Settings().password_hashing == "rfc9106-low-memory"
    created = users.create_user(email="cost@example.org", name="Cost", role="editor")
    sign_in.set_password(created, PASSWORD)
    db.session.refresh(created)
    assert created.password_hash is not None
    assert extract_parameters(created.password_hash) == profiles.RFC_9106_LOW_MEMORY
    assert sign_in.attempt("cost@example.org", PASSWORD).signed_in


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(
    production_cost: None, user: User
) -> None:
    weak = PasswordHasher(**_parameters(profiles.CHEAPEST)).hash(PASSWORD)
    db.session.execute(update(User).where(User.id == user.id).values(password_hash=weak))
    assert sign_in.attempt("ada@example.org", PASSWORD).signed_in
    db.session.refresh(user)
    assert user.password_hash != weak
    assert extract_parameters(user.password_hash) == profiles.RFC_9106_LOW_MEMORY
    assert sign_in.attempt("ada@example.org", PASSWORD).signed_in


def test_a_hash_stronger_than_the_configured_cost_is_kept_at_sign_in(user: User) -> None:
    # The suite hashes at argon2's smallest cost: a production hash must not be weakened.
    strong = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY).hash(PASSWORD)
    db.session.execute(update(User).where(User.id == user.id).values(password_hash=strong))
    assert sign_in.attempt("ada@example.org", PASSWORD).signed_in
    db.session.refresh(user)
    assert user.password_hash == strong


def test_an_app_hashing_at_the_test_suites_cost_says_so_when_it_starts(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    built = build_app(app.config["SQLALCHEMY_DATABASE_URI"])
    assert built.config["CMS_SETTINGS"].password_hashing == "insecure-fast-for-tests"
    warned = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("CMS_PASSWORD_HASHING=insecure-fast-for-tests" in text for text in warned)


@pytest.mark.parametrize("hashing", ["", "md5", "RFC9106-LOW-MEMORY"])
def test_an_unknown_password_hashing_is_refused_at_start(hashing: str) -> None:
    with pytest.raises(ValueError, match="CMS_PASSWORD_HASHING"):
        Settings.from_environ({"CMS_PASSWORD_HASHING": hashing})


def _token(url: str) -> str:
    return url.split("token=", 1)[1]


def test_a_login_link_signs_in_once(user: User) -> None:
    issued = sign_in.issue_login_link(user)
    assert issued.url.startswith("http://localhost/studio/sign-in/link?token=")
    secret = _token(issued.url)
    stored = db.session.scalars(select(LoginLink.digest)).all()
    assert secret not in stored
    found = sign_in.redeem_login_link(secret)
    assert found is not None and found.id == user.id
    assert sign_in.redeem_login_link(secret) is None


def test_a_login_link_expires(user: User) -> None:
    issued = sign_in.issue_login_link(user)
    db.session.execute(
        update(LoginLink)
        .where(LoginLink.id == issued.link.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.expire_all()
    assert sign_in.redeem_login_link(_token(issued.url)) is None


def test_a_login_link_of_a_disabled_user_signs_no_one_in(user: User) -> None:
    issued = sign_in.issue_login_link(user)
    users.disable_user(user)
    assert sign_in.redeem_login_link(_token(issued.url)) is None
    with pytest.raises(ValidationFailed):
        sign_in.issue_login_link(user)


def test_a_login_link_lifts_a_lock(user: User) -> None:
    db.session.execute(
        update(User).where(User.id == user.id).values(locked_until=utcnow() + timedelta(hours=1))
    )
    found = sign_in.redeem_login_link(_token(sign_in.issue_login_link(user).url))
    assert found is not None
    db.session.refresh(user)
    assert user.locked_until is None


@pytest.mark.parametrize("secret", ["", "garbage", "x" * 500])
def test_a_garbage_link_signs_no_one_in(ctx: None, secret: str) -> None:
    assert sign_in.redeem_login_link(secret) is None


def test_a_session_is_found_by_its_secret_and_only_a_digest_is_stored(user: User) -> None:
    issued = sessions.start(user, method="password")
    found = sessions.resolve(issued.secret)
    assert found is not None and found.user_id == user.id
    assert issued.session.digest != issued.secret
    assert sessions.resolve(issued.secret + "x") is None
    assert sessions.resolve(None) is None
    assert "user.sign_in" in _actions(user.id)


def test_an_idle_session_ends(user: User) -> None:
    issued = sessions.start(user, method="password")
    db.session.execute(
        update(StudioSession)
        .where(StudioSession.id == issued.session.id)
        .values(last_seen_at=utcnow() - sessions.IDLE_TIMEOUT - timedelta(seconds=1))
    )
    db.session.expire_all()
    assert sessions.resolve(issued.secret) is None
    assert db.session.get(StudioSession, issued.session.id) is None


def test_a_busy_session_ends_at_its_lifetime(user: User) -> None:
    issued = sessions.start(user, method="password")
    db.session.execute(
        update(StudioSession)
        .where(StudioSession.id == issued.session.id)
        .values(expires_at=utcnow() - timedelta(seconds=1), last_seen_at=utcnow())
    )
    db.session.expire_all()
    assert sessions.resolve(issued.secret) is None


def test_disabling_a_user_ends_their_sessions_for_good(user: User) -> None:
    issued = sessions.start(user, method="password")
    assert users.disable_user(user).sessions_ended == 1
    # Gone from the table at once, not only refused when the browser comes back.
    left = select(func.count()).select_from(StudioSession).where(StudioSession.user_id == user.id)
    assert db.session.scalar(left) == 0
    users.enable_user(user)
    assert sessions.resolve(issued.secret) is None


def test_a_new_password_signs_every_browser_out(user: User) -> None:
    first = sessions.start(user, method="password")
    second = sessions.start(user, method="link")
    assert sign_in.set_password(user, "another long passphrase") == 2
    assert sessions.resolve(first.secret) is None
    assert sessions.resolve(second.secret) is None


def test_signing_out_deletes_the_session(user: User) -> None:
    issued = sessions.start(user, method="password")
    sessions.end(issued.session)
    assert sessions.resolve(issued.secret) is None
    assert "user.sign_out" in _actions(user.id)


def test_starting_a_session_prunes_expired_ones(user: User) -> None:
    old = sessions.start(user, method="password")
    db.session.execute(
        update(StudioSession)
        .where(StudioSession.id == old.session.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    sessions.start(user, method="password")
    count = db.session.scalar(
        select(func.count()).select_from(StudioSession).where(StudioSession.user_id == user.id)
    )
    assert count == 1


def test_notices_are_shown_once(user: User) -> None:
    issued = sessions.start(user, method="password")
    sessions.add_notice(issued.session, "Saved.", category="success")
    found = sessions.resolve(issued.secret)
    assert found is not None
    assert sessions.take_notices(found) == [{"text": "Saved.", "category": "success"}]
    db.session.expire_all()
    again = sessions.resolve(issued.secret)
    assert again is not None and sessions.take_notices(again) == []
