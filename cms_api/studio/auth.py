"""Signing in to the studio (password or one-time link) and signing out."""

from __future__ import annotations

import time

from flask import Response, g, redirect, request, url_for

from cms_api.database import db
from cms_api.models import User
from cms_api.ratelimit import limiter, rate_limited
from cms_api.services.accounts import sessions, sign_in
from cms_api.studio import pages, security
from cms_api.studio.blueprint import bp

# The same words for every failure: an unknown address, a wrong password, a locked or
# disabled account all look alike from outside.
REFUSED = (
    "That e-mail address and password do not match an account that can sign in now. "
    "After several failed attempts an account is locked for 15 minutes; an administrator "
    "can also send you a sign-in link."
)
LINK_REFUSED = (
    "This sign-in link has expired or has already been used. Ask an administrator for a new one."
)
# Per client address, on top of the per-account lock (sign_in.MAX_FAILURES): the lock stops
# guessing at one account, this stops one address trying many accounts or many links. Only
# attempts that do not sign in count, so colleagues behind one office address can all sign
# in at nine o'clock, while guessing, which fails, is held to 10 a minute and 50 an hour.
SIGN_IN_RATE_LIMIT = "10 per minute;50 per hour"
# Messages the sign-in page shows from its query string: fixed texts, never the query's.
SIGN_IN_NOTICES = {
    "signed-out": "You are signed out.",
    "expired": "Your session has ended. Please sign in again.",
}


def _not_signed_in(response: Response) -> bool:
    # A 303 is a sign-in. The limit's own 429 is not counted either: an address that waits
    # as Retry-After says gets its attempts back.
    return response.status_code not in (303, 429)


def _too_many_attempts() -> str:
    # Called as the limit refuses, once flask-limiter has noted which limit that is.
    breached = limiter.current_limit
    seconds = breached.reset_at - time.time() if breached is not None else 60
    # Rounded, not up: a minute's window ends a second or so past 60 s, by flask-limiter's
    # rounding of its reset, and that is still "a minute" to a person.
    minutes = max(1, round(seconds / 60))
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    return (
        "Too many sign-in attempts have come from your network address. "
        f"Please wait {wait}, then try again."
    )


# The limit is checked before the view runs, so while it holds even the right password or
# a good link is refused, and a refused link is not spent.
limit_attempts = rate_limited(
    SIGN_IN_RATE_LIMIT, deduct_when=_not_signed_in, error_message=_too_many_attempts
)


@bp.get("/sign-in")
def sign_in_page() -> Response:
    """The sign-in form (a signed-in browser goes on to the start page)."""
    if security.current_user() is not None:
        return redirect(security.safe_next(request.args.get("next")) or url_for("studio.home"))
    form = pages.Form(values={"next": security.safe_next(request.args.get("next")) or ""})
    notice = SIGN_IN_NOTICES.get(request.args.get("notice", ""))
    return pages.render_page(
        "studio/sign_in.html",
        form=form,
        notices=[{"text": notice, "category": "info"}] if notice else [],
    )


@bp.post("/sign-in")
@limit_attempts
def sign_in_submit() -> Response:
    form = pages.Form.from_request(request.form)
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    if not email or not password:
        form.refuse(
            "Enter your e-mail address and your password.",
            **({} if email else {"email": ["Enter your e-mail address."]}),
            **({} if password else {"password": ["Enter your password."]}),
        )
        return pages.render_page("studio/sign_in.html", form=form, status=422)
    outcome = sign_in.attempt(email, password, request_id=g.get("request_id"))
    if outcome.user is None:
        db.session.commit()  # the failure counts towards the lock
        form.refuse(REFUSED)
        return pages.render_page("studio/sign_in.html", form=form, status=422)
    return _signed_in(outcome.user, "password", request.form.get("next"))


@bp.get("/sign-in/link")
def link_page() -> Response:
    """Where a sign-in link lands: a button that spends it. Nothing is spent by merely
    opening the address, which mail scanners and link previews do."""
    return pages.render_page(
        "studio/link.html", token=request.args.get("token", ""), form=pages.Form()
    )


@bp.post("/sign-in/link")
@limit_attempts
def use_link() -> Response:
    user = sign_in.redeem_login_link(request.form.get("token", ""), request_id=g.get("request_id"))
    if user is None:
        db.session.commit()  # a link is spent by its first use, refused or not
        form = pages.Form().refuse(LINK_REFUSED)
        return pages.render_page("studio/link.html", token="", form=form, status=422)
    return _signed_in(user, "link", None)


def _signed_in(user: User, method: str, next_path: str | None) -> Response:
    previous = security.current_session()
    if previous is not None:
        # A browser signing in again gets a new session: the old one ends.
        sessions.end(previous, request_id=g.get("request_id"))
    issued = sessions.start(user, method=method, request_id=g.get("request_id"))
    db.session.commit()
    response = redirect(security.safe_next(next_path) or url_for("studio.home"), code=303)
    security.set_cookie(response, security.SESSION_COOKIE, issued.secret)
    security.delete_cookie(response, security.ANONYMOUS_CSRF_COOKIE)
    return response


@bp.post("/sign-out")
def sign_out() -> Response:
    session = security.current_session()
    if session is not None:
        sessions.end(session, request_id=g.get("request_id"))
        db.session.commit()
    response = redirect(url_for("studio.sign_in_page", notice="signed-out"), code=303)
    security.delete_cookie(response, security.SESSION_COOKIE)
    return response
