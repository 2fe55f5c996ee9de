"""Admins manage users and their bearer tokens."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.http.admin_resource import AdminResource
from cms_api.models import User
from cms_api.schemas.admin.accounts import (
    IssuedTokenOut,
    TokenIn,
    TokenList,
    TokenOut,
    UserIn,
    UserList,
    UserOut,
    UserPatch,
)
from cms_api.services.accounts import users as accounts

blp = AdminBlueprint(
    "admin_accounts",
    __name__,
    url_prefix="/v1/admin",
    description="Users, roles and bearer tokens (admins only).",
)
USER: AdminResource[User] = AdminResource(
    blp, kind="user", id_parameter="user_id", present=accounts.present_user, fetch=accounts.get_user
)


@blp.route("/users")
class UserCollection(MethodView):
    @blp.authorize("accounts:manage")
    @blp.response(200, UserList)
    def get(self) -> Any:
        """List users

        Every user with their role and, for reviewers, the person they sign off as.
        """
        return {"items": [accounts.present_user(user) for user in accounts.list_users()]}

    @blp.authorize("accounts:manage")
    @blp.arguments(UserIn)
    @blp.response(201, UserOut, headers=ETAG_HEADER)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a user

        A reviewer must name the person (with credentials) they sign off as.
        """
        user = accounts.create_user(
            email=data["email"],
            name=data["name"],
            role=data["role"],
            person_slug=data.get("person"),
            actor=actor(),
        )
        return USER.answer(user, 201, Location=f"/v1/admin/users/{user.id}")


@blp.route("/users/<uuid:user_id>")
class UserItem(MethodView):
    @blp.authorize("accounts:manage")
    @blp.response(200, UserOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id: uuid.UUID) -> Any:
        """Get a user

        With its ETag, for `If-Match` when editing it.
        """
        return USER.show(accounts.get_user(user_id))

    @blp.authorize("accounts:manage")
    @blp.arguments(UserPatch)
    @blp.response(200, UserOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @USER.locked
    def patch(self, data: dict[str, Any], user: User) -> Any:
        """Edit a user's name, role or person

        A reviewer needs a person (422 otherwise). The last active admin keeps the admin
        role (409). A new role applies from the user's next request.
        """
        accounts.update_user(user, data, actor=actor())
        return USER.answer(user)


@blp.route("/users/<uuid:user_id>/disable")
class UserDisable(MethodView):
    @blp.authorize("accounts:manage")
    @blp.response(200, UserOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @USER.locked(required=False)
    def post(self, user: User) -> Any:
        """Disable a user

        Every token they hold is revoked and answers 401 from now on; enabling them again
        does not bring those tokens back. The last active admin cannot be disabled (409).
        Disabling twice changes nothing.
        """
        accounts.disable_user(user, actor=actor())
        return USER.answer(user)


@blp.route("/users/<uuid:user_id>/enable")
class UserEnable(MethodView):
    @blp.authorize("accounts:manage")
    @blp.response(200, UserOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @USER.locked(required=False)
    def post(self, user: User) -> Any:
        """Enable a disabled user

        They may be issued tokens again; the tokens revoked when they were disabled stay
        revoked. Enabling an active user changes nothing.
        """
        accounts.enable_user(user, actor=actor())
        return USER.answer(user)


@blp.route("/tokens")
class TokenCollection(MethodView):
    @blp.authorize("accounts:manage")
    @blp.response(200, TokenList)
    def get(self) -> Any:
        """List tokens (never their secrets)

        Owner, name, the first characters, expiry, revocation and last use of each token.
        """
        return {"items": accounts.list_tokens()}

    @blp.authorize("accounts:manage")
    @blp.arguments(TokenIn)
    @blp.response(201, IssuedTokenOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any]) -> Any:
        """Issue a token

        The secret is in this response only; store it now. Without `expires_at` the token
        expires after `CMS_TOKEN_MAX_LIFETIME_DAYS` (90 by default); an expiry in the past
        or beyond that is a 422.
        """
        issued = accounts.issue_token_for(
            data["user_id"], name=data["name"], expires_at=data.get("expires_at"), actor=actor()
        )
        db.session.commit()
        body = {**accounts.present_token(issued.token), "token": issued.secret}
        return body, 201, {"Location": f"/v1/admin/tokens/{issued.token.id}"}


@blp.route("/tokens/<uuid:token_id>/revoke")
class TokenRevoke(MethodView):
    @blp.authorize("accounts:manage")
    @blp.response(200, TokenOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, token_id: uuid.UUID) -> Any:
        """Revoke a token

        From now on it answers 401. Revoking twice changes nothing.
        """
        token = accounts.revoke_token_by_id(token_id, actor=actor())
        db.session.commit()
        return token
