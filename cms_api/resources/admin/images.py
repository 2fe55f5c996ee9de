"""Admin media library: upload images, edit their metadata and focal point, trash, restore."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, url_for
from flask.views import MethodView
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.http.admin_resource import (
    AdminResource,
    Permissions,
    StandardViews,
    ViewDocs,
    ViewNames,
    ViewSchemas,
)
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.http.requests import upload
from cms_api.schemas.admin.images import (
    AdminImageList,
    AdminImageOut,
    AdminImagePatch,
    AdminImageQueryArgs,
    AdminImageUpload,
)
from cms_api.services.editorial.common import ContentType
from cms_api.services.media import images

# Room for the text fields and multipart framing beside the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


class _FormParser(FlaskParser):
    """Reads a multipart/form-data body's text fields and files as one set of arguments,
    so one schema (the OpenAPI request body) describes the whole form."""

    def load_files(self, req: Any, schema: Any) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


def _upload_limit() -> int:
    return current_app.config["CMS_SETTINGS"].media_max_bytes + FORM_OVERHEAD_BYTES


blp = AdminBlueprint(
    "admin_images",
    __name__,
    url_prefix="/v1/admin/images",
    description="The media library: images with alt text, credits and focal points, and "
    "their renditions.",
)
blp.ARGUMENTS_PARSER = _FormParser()

IMAGES = ContentType[Any](
    kind=images.KIND,
    get=images.get_image,
    update=images.update_image,
    trash=images.trash_image,
    restore=images.restore_image,
    present=images.present,
    filters=images.ImageFilters,
    list=images.list_images,
)
RESOURCE = AdminResource.of(blp, IMAGES, id_parameter="image_id")
PERMISSIONS = Permissions(read="media:read", write="media:write")
LOCATION = {"description": "The new image's address.", "schema": {"type": "string"}}
UPLOAD_EXAMPLE = {"alt_text": "A neurologist examining a patient's reflexes", "focal_x": 0.5}


@blp.route("")
class ImageCollection(MethodView):
    @blp.authorize(PERMISSIONS.read)
    @blp.query_args(AdminImageQueryArgs)
    @blp.response(200, AdminImageList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List images

        The library, most recently changed first. `q` finds text in the file name, alt
        text, caption or credit; `trashed=true` lists the trash.
        """
        chosen = images.ImageFilters(q=args.get("q"), trashed=args["trashed"])
        page = images.list_images(chosen, limit=args["limit"], cursor=args.get("cursor"))
        return page_answer(page, [images.present(item) for item in page.items])

    @blp.authorize(PERMISSIONS.write)
    @upload(_upload_limit)
    @blp.arguments(AdminImageUpload, location="files", example=UPLOAD_EXAMPLE, unknown=ma.RAISE)
    @blp.response(201, AdminImageOut, headers={**ETAG_HEADER, "Location": LOCATION})
    @blp.alt_response(
        413,
        response="REQUEST_ENTITY_TOO_LARGE",
        description="The file is over `CMS_MEDIA_MAX_BYTES` (25 MiB by default).",
    )
    @blp.alt_response(
        415,
        response="UNSUPPORTED_MEDIA_TYPE",
        description="Not multipart/form-data, or the file is not a JPEG, PNG, WebP or AVIF "
        "image (`/problems/unsupported-image`).",
    )
    @blp.alt_response(
        422,
        response="UNPROCESSABLE_ENTITY",
        description="A field is invalid (alt text missing on an image that is not "
        "decorative, a focal point outside 0..1), the image is corrupt or truncated "
        "(`/problems/unreadable-image`), or it has more pixels than `CMS_MEDIA_MAX_PIXELS` "
        "(`/problems/image-too-large`).",
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Upload an image

        A multipart/form-data body: the image as the `file` part, its metadata as text
        parts. The type is read from the bytes (JPEG, PNG, WebP, AVIF where supported);
        the image is turned upright from its EXIF orientation, converted to sRGB and
        stripped of every metadata block (EXIF with GPS, XMP, ICC) before it is stored.
        Renditions are made at once: 16:9, 4:3 and 1:1 crops around the focal point at
        each preset width up to the crop's own, in WebP and JPEG.
        """
        file = data.pop("file")
        fields = {"filename": file.filename, "alt_text": None, **data}
        image = images.create(file.read(), fields, actor())
        address = url_for(f"{blp.name}.ImageById", image_id=image.id)
        return RESOURCE.answer(image, 201, Location=address)


StandardViews(
    RESOURCE,
    IMAGES,
    schemas=ViewSchemas(out=AdminImageOut, patch=AdminImagePatch),
    names=ViewNames("ImageCollection", "ImageById", "ImageRestore"),
    permissions=PERMISSIONS,
    conflicts=frozenset({"patch", "restore"}),
    docs=ViewDocs(
        get="""Get an image

        Its metadata, the original's URL and every rendition; images in the trash too.
        """,
        patch="""Edit an image's metadata (JSON merge patch)

        Alt text, decorative, caption, credit, license and focal point; the pixels never
        change (upload a new image for that). Moving the focal point remakes the crops:
        renditions whose pixels changed get new keys and URLs, the old ones stop being
        served. Alt text may be cleared only on a decorative image (422).
        """,
        delete="""Move an image to the trash

        Its files stop being served (404); nothing is deleted and `POST .../restore`
        brings it back.
        """,
        restore="""Restore an image from the trash

        Its files are served again at the same URLs; 409 when it is not in the trash.
        """,
    ),
).register(collection=False)
