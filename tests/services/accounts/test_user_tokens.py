"""One user's API tokens, as the studio's user page lists them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import ApiToken, User
from cms_api.services.accounts import users


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def _token(user: User, name: str, *, age: timedelta) -> ApiToken:
    token = users.issue_token(user, name=name).token
    # Tokens made in one transaction share now(): set apart, so the order is the test's.
    token.created_at = utcnow() - age
    db.session.flush()
    return token


def test_a_users_tokens_are_theirs_alone_newest_first_revoked_ones_included(ctx: None) -> None:
    ada = users.create_user(email="ada-tokens@example.org", name="Ada", role="editor")
    bob = users.create_user(email="bob-tokens@example.org", name="Bob", role="editor")
    # Made out of order, and interleaved with another user's, so neither the order of
    # insertion nor a missing WHERE could give the expected answer.
    middle = _token(ada, "middle", age=timedelta(hours=2))
    theirs = _token(bob, "bob's", age=timedelta(hours=1))
    oldest = _token(ada, "oldest", age=timedelta(days=3))
    newest = _token(ada, "newest", age=timedelta(minutes=5))
    users.revoke_token(oldest)

    listed = users.list_tokens_of(ada)

    assert [token.id for token in listed] == [newest.id, middle.id, oldest.id]
    assert listed[-1].revoked_at is not None
    assert [token.id for token in users.list_tokens_of(bob)] == [theirs.id]
    # The same tokens, in the same order, as the whole list filtered to Ada.
    everyone = [token.id for token in users.list_tokens() if token.user_id == ada.id]
    assert [token.id for token in listed] == everyone


def test_a_user_without_tokens_has_an_empty_list(ctx: None) -> None:
    someone = users.create_user(email="no-tokens@example.org", name="No one", role="viewer")
    other = users.create_user(email="has-tokens@example.org", name="Other", role="editor")
    users.issue_token(other, name="not theirs")
    db.session.flush()

    assert users.list_tokens_of(someone) == []
