"""The studio's session cookie, CSRF tokens, the current user and the access decorators."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Response, current_app, g, redirect, request, url_for
from werkzeug.exceptions import Forbidden

from cms_api.models import StudioSession, User
from cms_api.observability import USER
from cms_api.services.accounts import permissions, sessions

SESSION_COOKIE = "cms_studio_session"
# Before sign-in there is no session to hold a token: the sign-in forms compare the form's
# token with this cookie's (double submit). SameSite=Lax keeps it off cross-site posts too.
ANONYMOUS_CSRF_COOKIE = "cms_studio_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_PATH = "/studio"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Every studio page: scripts and styles only from the app's own files (no inline script,
# no eval), forms only to the app, never framed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

View = TypeVar("View", bound=Callable[..., Any])


def _secure() -> bool:
    return bool(current_app.config["CMS_SETTINGS"].studio_secure_cookie)


def set_cookie(response: Response, name: str, value: str) -> None:
    """A studio cookie: HttpOnly, SameSite=Lax, Secure unless turned off, only for /studio,
    and gone when the browser closes (the server decides how long a session lives)."""
    response.set_cookie(
        name, value, path=COOKIE_PATH, secure=_secure(), httponly=True, samesite="Lax"
    )


def delete_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, secure=_secure(), httponly=True, samesite="Lax")


def load_session() -> None:
    """Before every studio request: the browser's session, if its cookie names a live one."""
    session = sessions.resolve(request.cookies.get(SESSION_COOKIE))
    g.studio_session = session
    if session is not None:
        request.environ[USER] = str(session.user_id)  # for the access log


def current_session() -> StudioSession | None:
    return g.get("studio_session")


def current_user() -> User | None:
    session = current_session()
    return session.user if session is not None else None


def csrf_token() -> str:
    """The token this browser's forms carry: its session's, or before sign-in the one in
    the anonymous cookie (made, and set on the response, when there is none yet)."""
    session = current_session()
    if session is not None:
        return session.csrf_token
    token = g.get("anonymous_csrf")
    if token is None:
        token = request.cookies.get(ANONYMOUS_CSRF_COOKIE, "")
        if not 20 <= len(token) <= 100:
            token = secrets.token_urlsafe(32)
            g.set_anonymous_csrf = True
        g.anonymous_csrf = token
    return token


def check_csrf() -> None:
    """Refuse a write to the studio without this browser's token (form field or header)."""
    if request.method not in UNSAFE_METHODS:
        return
    session = current_session()
    expected = (
        session.csrf_token if session is not None else request.cookies.get(ANONYMOUS_CSRF_COOKIE)
    )
    supplied = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if not expected or not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise Forbidden(
            "This form has expired or did not come from the studio. Go back, reload the "
            "page and try again."
        )


def finish_response(response: Response) -> Response:
    """After every studio request: security headers, and the anonymous CSRF cookie."""
    if g.get("set_anonymous_csrf"):
        set_cookie(response, ANONYMOUS_CSRF_COOKIE, g.anonymous_csrf)
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "studio.static":
        # Pages show drafts and who is signed in: never kept by a browser or a proxy, so
        # the back button after signing out asks the server again.
        headers["Cache-Control"] = "no-store"
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
    return response


def safe_next(target: str | None) -> str | None:
    """A path inside the studio to go back to after signing in; None for anything else
    (another site, a scheme, a protocol-relative or backslashed path)."""
    if not target or not target.startswith(COOKIE_PATH + "/") or len(target) > 2000:
        return None
    if "//" in target or "\\" in target or not target.isprintable():
        return None
    return target


def sign_in_redirect() -> Response:
    """To the sign-in page, coming back here afterwards (for a page read)."""
    query = {}
    if request.method == "GET":
        here = request.full_path.rstrip("?")
        if safe_next(here):
            query["next"] = here
    target = url_for("studio.sign_in_page") + ("?" + urlencode(query) if query else "")
    response = redirect(target, code=303)
    if request.headers.get("HX-Request"):
        # htmx would swap the sign-in page into a fragment; a full navigation is meant.
        response.headers["HX-Redirect"] = target
    return response


def login_required(view: View) -> View:
    """Only for a signed-in browser; any other is sent to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return sign_in_redirect()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def requires(action: str) -> Callable[[View], View]:
    """Only for a signed-in user whose role may perform `action` (the permission matrix the
    admin API uses); others get a 403 page."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return sign_in_redirect()
            if not permissions.allowed(user.role, action):
                raise Forbidden(f"Your role ({user.role}) may not do this.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def may(action: str) -> bool:
    """Whether the signed-in user may perform `action` (for templates: show a button)."""
    user = current_user()
    return user is not None and permissions.allowed(user.role, action)
