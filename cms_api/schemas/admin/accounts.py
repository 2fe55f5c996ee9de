"""Shapes of the admin users and tokens resources."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.user import ROLES
from cms_api.schemas.common import (
    StrictSchema,
    nullable_text,
    slug_field,
)

R = {"required": True}


class UserIn(StrictSchema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=320))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = ma.fields.String(required=True, validate=validate.OneOf(list(ROLES)))
    person = slug_field(metadata={"description": "For reviewers: the person they sign off as."})


class UserPatch(StrictSchema):
    """Fields an edit may change; role changes take effect on the user's next request."""

    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    role = ma.fields.String(validate=validate.OneOf(list(ROLES)))
    person = slug_field(
        allow_none=True,
        metadata={"description": "The person a reviewer signs off as (required for reviewers)."},
    )


class UserOut(ma.Schema):
    id = ma.fields.UUID(**R)
    email = ma.fields.String(**R)
    name = ma.fields.String(**R)
    role = ma.fields.String(**R)
    person = nullable_text()
    created_at = ma.fields.DateTime(**R)
    disabled_at = ma.fields.DateTime(required=True, allow_none=True)


class TokenIn(StrictSchema):
    user_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    expires_at = ma.fields.AwareDateTime(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "When the token stops working: in the future and at most "
            "`CMS_TOKEN_MAX_LIFETIME_DAYS` (90 by default) away, which is also the expiry "
            "when none is given."
        },
    )


class TokenOut(ma.Schema):
    id = ma.fields.UUID(**R)
    user_id = ma.fields.UUID(**R)
    name = ma.fields.String(**R)
    prefix = ma.fields.String(**R, metadata={"description": "The token's first characters."})
    created_at = ma.fields.DateTime(**R)
    expires_at = ma.fields.DateTime(required=True, allow_none=True)
    revoked_at = ma.fields.DateTime(required=True, allow_none=True)
    last_used_at = ma.fields.DateTime(required=True, allow_none=True)


class IssuedTokenOut(TokenOut):
    token = ma.fields.String(**R, metadata={"description": "The secret, shown this once."})


UserList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(UserOut), **R)}, name="UserList"
)


TokenList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(TokenOut), **R)}, name="TokenList"
)
