"""Admins manage users and their bearer tokens."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import AdminBlueprint, actor
from cms_api.schemas.admin.accounts import (
    IssuedTokenOut,
    TokenIn,
    TokenList,
    TokenOut,
    UserIn,
    UserList,
    UserOut,
)
from cms_api.services.accounts import users as accounts

blp = AdminBlueprint(
    "admin_accounts",
    __name__,
    url_prefix="/v1/admin",
    description="Users, roles and bearer tokens (admins only).",
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
    @blp.response(201, UserOut)
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
        db.session.commit()
        return accounts.present_user(user), 201, {"Location": f"/v1/admin/users/{user.id}"}


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

        The secret is in this response only; store it now.
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
