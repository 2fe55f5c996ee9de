"""Admins manage users in the studio: roles, access, sign-in links and API tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Response, redirect, request, url_for
from werkzeug.exceptions import NotFound

from cms_api.domain.errors import DomainError
from cms_api.models import User
from cms_api.models.user import ROLES
from cms_api.schemas.admin.accounts import TokenIn, UserIn, UserPatch
from cms_api.services.accounts import sign_in
from cms_api.services.accounts import users as accounts
from cms_api.studio import actions, nav, pages, security
from cms_api.studio.blueprint import bp

ACTION = "accounts:manage"  # the admin API's permission for users and tokens

nav.add_section(
    nav.Section(
        endpoint="studio.admin_users",
        label="Users",
        description="Add people, set their roles, send sign-in links and issue API tokens.",
        action=ACTION,
    )
)


def unchanged_since(version: str | None, current: int) -> None:
    """Refuse a form made from another version than the one stored now (checked with the
    row locked, inside the write): someone else's change must not be overwritten."""
    if version != str(current):
        raise DomainError(
            "This was changed by someone else since you loaded the page.",
            status=412,
            kind="precondition-failed",
        )


def is_stale(done: actions.Done[Any]) -> bool:
    return done.error is not None and done.error.status == 412


def conflict_page(what: str, back: str) -> Response:
    """Someone changed the record since this form was loaded: nothing is overwritten."""
    return pages.render_page("studio/admin/conflict.html", status=409, what=what, back=back)


def _user_page(
    user: User,
    *,
    status: int = 200,
    role_form: pages.Form | None = None,
    token_form: pages.Form | None = None,
    access_form: pages.Form | None = None,
    issued_secret: str | None = None,
    link_url: str | None = None,
) -> Response:
    return pages.render_page(
        "studio/admin/user.html",
        status=status,
        subject=user,
        roles=ROLES,
        tokens=accounts.list_tokens_of(user),
        role_form=role_form
        or pages.Form(
            values={
                "name": user.name,
                "role": user.role,
                "person": user.person.slug if user.person else "",
            }
        ),
        token_form=token_form or pages.Form(),
        access_form=access_form or pages.Form(),
        issued_secret=issued_secret,
        link_url=link_url,
        now=datetime.now(UTC),
    )


def _users_page(form: pages.Form, status: int = 200) -> Response:
    return pages.render_page(
        "studio/admin/users.html",
        status=status,
        users=accounts.list_users(),
        roles=ROLES,
        form=form,
    )


@bp.get("/admin/users")
@security.requires(ACTION)
def admin_users() -> Response:
    """Every user, and a form to add one."""
    return _users_page(pages.Form(values={"role": "editor"}))


@bp.post("/admin/users")
@security.requires(ACTION)
def admin_user_create() -> Response:
    form = pages.Form.from_request(request.form)
    sent = {name: request.form.get(name, "").strip() for name in ("email", "name", "role")}
    if request.form.get("person", "").strip():
        sent["person"] = request.form["person"].strip()
    data = pages.validated(UserIn(), sent, form, "Some fields need attention.")
    if data is None:
        return _users_page(form, 422)
    done = actions.perform(
        lambda actor: accounts.create_user(
            email=data["email"],
            name=data["name"],
            role=data["role"],
            person_slug=data.get("person"),
            actor=actor,
        )
    )
    if not done.ok:
        assert done.error is not None
        return _users_page(form.refuse_with(done.error), 422)
    assert done.value is not None
    pages.notice(f"{done.value.email} was added as {done.value.role}.", category="success")
    return redirect(url_for("studio.admin_user", user_id=done.value.id), code=303)


@bp.get("/admin/users/<uuid:user_id>")
@security.requires(ACTION)
def admin_user(user_id: uuid.UUID) -> Response:
    """One user: role, access, sign-in link and tokens."""
    return _user_page(accounts.get_user(user_id))


@bp.post("/admin/users/<uuid:user_id>")
@security.requires(ACTION)
def admin_user_update(user_id: uuid.UUID) -> Response:
    user = accounts.get_user(user_id)
    form = pages.Form.from_request(request.form)
    sent: dict[str, Any] = {
        "name": request.form.get("name", "").strip(),
        "role": request.form.get("role", ""),
        "person": request.form.get("person", "").strip() or None,
    }
    data = pages.validated(UserPatch(), sent, form, "Some fields need attention.")
    if data is None:
        return _user_page(user, status=422, role_form=form)
    done = actions.perform(lambda actor: accounts.update_user(_locked(user_id), data, actor=actor))
    if is_stale(done):
        return conflict_page("this user", url_for("studio.admin_user", user_id=user.id))
    if not done.ok:
        assert done.error is not None
        return _user_page(
            accounts.get_user(user_id), status=422, role_form=form.refuse_with(done.error)
        )
    pages.notice(f"{user.email} is saved.", category="success")
    return redirect(url_for("studio.admin_user", user_id=user.id), code=303)


def _locked(user_id: uuid.UUID) -> User:
    user = accounts.get_user(user_id, for_update=True)
    unchanged_since(request.form.get("version"), user.version)
    return user


def _access_change(user_id: uuid.UUID, *, disable: bool) -> Response:
    user = accounts.get_user(user_id)
    me = security.current_user()
    myself = me is not None and me.id == user_id
    if disable:
        done = actions.perform(lambda actor: accounts.disable_user(_locked(user_id), actor=actor))
    else:
        done = actions.perform(lambda actor: accounts.enable_user(_locked(user_id), actor=actor))
    if is_stale(done):
        return conflict_page("this user", url_for("studio.admin_user", user_id=user.id))
    if not done.ok:
        assert done.error is not None
        form = pages.Form().refuse_with(done.error)
        return _user_page(accounts.get_user(user_id), status=422, access_form=form)
    if disable and myself:
        # An admin who disabled themselves has just ended their own session.
        response = redirect(url_for("studio.sign_in_page", notice="expired"), code=303)
        security.delete_cookie(response, security.SESSION_COOKIE)
        return response
    if disable:
        pages.notice(
            f"{user.email} is disabled: their tokens are revoked and they are signed out.",
            category="success",
        )
    else:
        pages.notice(f"{user.email} may sign in again.", category="success")
    return redirect(url_for("studio.admin_user", user_id=user.id), code=303)


@bp.post("/admin/users/<uuid:user_id>/disable")
@security.requires(ACTION)
def admin_user_disable(user_id: uuid.UUID) -> Response:
    return _access_change(user_id, disable=True)


@bp.post("/admin/users/<uuid:user_id>/enable")
@security.requires(ACTION)
def admin_user_enable(user_id: uuid.UUID) -> Response:
    return _access_change(user_id, disable=False)


@bp.post("/admin/users/<uuid:user_id>/sign-in-link")
@security.requires(ACTION)
def admin_user_link(user_id: uuid.UUID) -> Response:
    """A one-time sign-in link, shown on this answer only (only its digest is stored)."""
    user = accounts.get_user(user_id)
    done = actions.perform(lambda actor: sign_in.issue_login_link(user, actor=actor))
    if not done.ok:
        assert done.error is not None
        form = pages.Form().refuse_with(done.error)
        return _user_page(user, status=422, access_form=form)
    assert done.value is not None
    return _user_page(user, link_url=done.value.url)


def _expiry(raw: str) -> str | None:
    """A date from the form as the end of that day in UTC, in the API's format."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return raw  # the schema explains what it wants
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC).isoformat()


def _to_token_fields(form: pages.Form) -> None:
    """The API's field names as this page's (which has another form with a name)."""
    for api, here in (("name", "token_name"), ("expires_at", "expires_on")):
        if api in form.errors:
            form.errors[here] = form.errors.pop(api)


@bp.post("/admin/users/<uuid:user_id>/tokens")
@security.requires(ACTION)
def admin_token_issue(user_id: uuid.UUID) -> Response:
    """A new API token; its secret is on this answer only."""
    user = accounts.get_user(user_id)
    form = pages.Form.from_request(request.form)
    sent = {
        "user_id": str(user.id),
        "name": request.form.get("token_name", "").strip(),
        "expires_at": _expiry(request.form.get("expires_on", "").strip()),
    }
    data = pages.validated(TokenIn(), sent, form, "Some fields need attention.")
    if data is None:
        _to_token_fields(form)
        return _user_page(user, status=422, token_form=form)
    done = actions.perform(
        lambda actor: accounts.issue_token_for(
            user.id, name=data["name"], expires_at=data["expires_at"], actor=actor
        )
    )
    if not done.ok:
        assert done.error is not None
        form.refuse_with(done.error)
        _to_token_fields(form)
        return _user_page(user, status=422, token_form=form)
    assert done.value is not None
    return _user_page(user, issued_secret=done.value.secret)


@bp.post("/admin/users/<uuid:user_id>/tokens/<uuid:token_id>/revoke")
@security.requires(ACTION)
def admin_token_revoke(user_id: uuid.UUID, token_id: uuid.UUID) -> Response:
    user = accounts.get_user(user_id)
    token = next((t for t in accounts.list_tokens_of(user) if t.id == token_id), None)
    if token is None:
        # Another user's token, or none: this page does not reach it.
        raise NotFound("This user has no token with this id.")
    actions.perform(lambda actor: accounts.revoke_token_by_id(token.id, actor=actor))
    pages.notice(f"The token {token.prefix}… is revoked.", category="success")
    return redirect(url_for("studio.admin_user", user_id=user.id), code=303)
