"""Stored media files (originals and renditions), served by their content-hash key."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.domain.errors import NotFound
from cms_api.domain.etags import etag_matches
from cms_api.http.arguments import no_query_args
from cms_api.resources.delivery import DELIVERY_PARAMETERS
from cms_api.services.media import serving
from cms_api.services.media.formats import KEY_PATTERN

blp = Blueprint(
    "media",
    __name__,
    url_prefix="/v1/media",
    description="Image files of the media library: originals and renditions.",
)

# A key names one content forever (its SHA-256), so a file never changes at its URL.
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_HEADERS = {
    "ETag": {
        "description": "Strong entity tag: the SHA-256 in the key.",
        "required": True,
        "schema": {
            "type": "string",
            "example": '"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
        },
    },
    "Cache-Control": {
        "description": f"`{IMMUTABLE}`: a key's content never changes.",
        "required": True,
        "schema": {"type": "string"},
    },
    "X-Content-Type-Options": {
        "description": "`nosniff`: browsers take the declared media type.",
        "required": True,
        "schema": {"type": "string"},
    },
}
KEY_PARAMETER = {
    "in": "path",
    "name": "key",
    "required": True,
    "description": "The file's key, as an image's `files[].key` gives it: 64 hex digits "
    "and an extension. Anything else answers 404.",
    "schema": {"type": "string", "pattern": KEY_PATTERN.pattern, "maxLength": 69},
    "example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.webp",
}


def _file_headers(key: str) -> dict[str, str]:
    return {
        "ETag": f'"{key.partition(".")[0]}"',
        "Cache-Control": IMMUTABLE,
        "X-Content-Type-Options": "nosniff",
    }


@blp.route("/<key>", parameters=[KEY_PARAMETER, *DELIVERY_PARAMETERS])
class MediaFile(MethodView):
    @blp.alt_response(
        304,
        description="Not Modified: the `If-None-Match` ETag still matches.",
        headers=MEDIA_HEADERS,
        success=True,
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @no_query_args(blp)
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="image/*",
        headers=MEDIA_HEADERS,
        description="The file, in its own media type (`image/webp`, `image/jpeg`, ...).",
    )
    def get(self, key: str) -> Response:
        """Get a media file

        A stored original or rendition of an image in the library, by the key its admin
        representation lists. No authentication: these are the URLs published pages embed.
        A key names its content forever, so the answer may be cached for a year; files of
        an image in the trash answer 404.
        """
        media_type = serving.media_type_of(key)
        if media_type is None:
            raise NotFound("No media file has this key.")
        headers = _file_headers(key)
        if etag_matches(request.headers.get("If-None-Match"), headers["ETag"]):
            return Response(status=304, headers=headers)
        data = serving.read(key)
        if data is None:
            raise NotFound("No media file has this key.")
        return Response(data, status=200, mimetype=media_type, headers=headers)
