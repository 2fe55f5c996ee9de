"""`cms-api users ...` and `cms-api tokens ...`: users, their studio sign-in and bearer tokens."""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import DomainError
from cms_api.models import ApiToken, User
from cms_api.models.user import ROLES
from cms_api.services.accounts import sign_in
from cms_api.services.accounts import users as accounts

users_group = AppGroup("users", help="Manage users: roles, studio passwords and sign-in links.")
tokens_group = AppGroup("tokens", help="Manage bearer tokens.")


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--person", "person_slug", help="Slug of the person a reviewer signs off as.")
@click.option(
    "--token/--no-token",
    default=True,
    show_default=True,
    help="Also issue a bearer token and print it (shown once).",
)
def create_user_command(
    email: str, name: str, role: str, person_slug: str | None, token: bool
) -> None:
    """Create a user (and, by default, a first token)."""

    try:
        user = accounts.create_user(email=email, name=name, role=role, person_slug=person_slug)
        issued = accounts.issue_token(user, name="cli") if token else None
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from error
    db.session.commit()
    click.echo(f"Created {role} {user.email} ({user.id}).")
    if issued:
        click.echo(f"Token (shown once, keep it secret): {issued.secret}")


def _user(email_or_id: str) -> User:
    user = accounts.find_user(email_or_id)
    if user is None:
        raise click.ClickException(f"No user {email_or_id!r}.")
    return user


@users_group.command("set-role")
@click.argument("user")
@click.argument("role", type=click.Choice(list(ROLES)))
@click.option("--person", "person_slug", help="Slug of the person a reviewer signs off as.")
def set_role_command(user: str, role: str, person_slug: str | None) -> None:
    """Give USER (an email or id) another ROLE; it applies from their next request."""

    target = _user(user)
    data = {"role": role} | ({"person": person_slug} if person_slug else {})
    try:
        accounts.update_user(target, data)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from error
    db.session.commit()
    click.echo(f"{target.email} is now {role}.")


@users_group.command("disable")
@click.argument("user")
def disable_user_command(user: str) -> None:
    """Disable USER (an email or id): revoke every token they hold, end their studio sessions."""

    target = _user(user)
    try:
        disabled = accounts.disable_user(target)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from error
    db.session.commit()
    revoked, ended = disabled.tokens_revoked, disabled.sessions_ended
    click.echo(
        f"Disabled {target.email}; revoked {revoked} token{'s' if revoked != 1 else ''}, "
        f"ended {ended} studio session{'s' if ended != 1 else ''}."
    )


@users_group.command("enable")
@click.argument("user")
def enable_user_command(user: str) -> None:
    """Enable a disabled USER again (their old tokens stay revoked: issue a new one)."""

    target = _user(user)
    accounts.enable_user(target)
    db.session.commit()
    click.echo(f"Enabled {target.email}.")


@users_group.command("set-password")
@click.argument("user")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (its first line) instead of a prompt.",
)
def set_password_command(user: str, password_stdin: bool) -> None:
    """Set the studio password of USER (an email or id); it signs out their browsers."""

    target = _user(user)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt="Repeat the password"
        )
    try:
        ended = sign_in.set_password(target, password)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from error
    db.session.commit()
    click.echo(
        f"Set the password of {target.email}; ended {ended} studio "
        f"session{'s' if ended != 1 else ''}."
    )


@users_group.command("login-link")
@click.argument("user")
def login_link_command(user: str) -> None:
    """Print a one-time studio sign-in link for USER (an email or id), valid 15 minutes."""

    target = _user(user)
    try:
        issued = sign_in.issue_login_link(target)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from error
    db.session.commit()
    minutes = int(sign_in.LINK_LIFETIME.total_seconds() // 60)
    click.echo(f"Sign-in link for {target.email} (once, within {minutes} minutes):")
    click.echo(issued.url)


@tokens_group.command("create")
@click.argument("user")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option(
    "--expires-in-days",
    type=click.IntRange(min=1),
    help="Expire after N days (default and maximum: CMS_TOKEN_MAX_LIFETIME_DAYS).",
)
def create_token_command(user: str, name: str, expires_in_days: int | None) -> None:
    """Issue a token for USER (an email or id); it is printed once."""

    owner = _user(user)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        issued = accounts.issue_token(owner, name=name, expires_at=expires_at)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from error
    db.session.commit()
    click.echo(f"Token {issued.token.id} for {owner.email} (shown once, keep it secret):")
    click.echo(issued.secret)


@tokens_group.command("revoke")
@click.argument("token_id", type=click.UUID)
def revoke_token_command(token_id: uuid.UUID) -> None:
    """Revoke a token by its id."""

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"No token {token_id}.")
    accounts.revoke_token(token)
    db.session.commit()
    click.echo(f"Revoked {token_id}.")


@tokens_group.command("list")
@click.option("--user", help="Only this user's tokens (email or id).")
def list_tokens_command(user: str | None) -> None:
    """List tokens: id, owner, name, prefix, state, expiry and last use."""

    query = select(ApiToken, User).join(User).order_by(User.email, ApiToken.created_at)
    if user:
        owner = _user(user)
        query = query.where(ApiToken.user_id == owner.id)
    now = utcnow()
    for token, owner in db.session.execute(query):
        state = (
            "revoked"
            if token.revoked_at
            else "expired"
            if token.expires_at and token.expires_at <= now
            else "active"
        )
        click.echo(
            f"{token.id}  {owner.email}  {token.name}  {token.prefix}…  {state}  "
            f"expires={token.expires_at or '-'}  last_used={token.last_used_at or '-'}"
        )
