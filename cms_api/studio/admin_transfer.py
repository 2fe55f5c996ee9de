"""Admins export all content and import an export in the studio: checked first, then applied."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Response, current_app, request, stream_with_context

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.schemas.admin.transfer import TransferRecords
from cms_api.services.integrations.transfer import export, importer
from cms_api.services.integrations.transfer.report import ImportReport
from cms_api.studio import actions, nav, pages, security
from cms_api.studio.blueprint import bp

ACTION = "content:transfer"  # the admin API's permission for export and import
NDJSON = "application/x-ndjson"
# The admin API's own limit on an import's body.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
# A file checked but not applied is kept this long for its "Import" button.
STAGED_LIFETIME_SECONDS = 3600
_STAGED_NAME = re.compile(r"[A-Za-z0-9_-]{20,80}")

nav.add_section(
    nav.Section(
        endpoint="studio.admin_transfer",
        label="Import and export",
        description="Download all content as a file, or load such a file into this site.",
        action=ACTION,
    )
)


@bp.url_value_preprocessor
def _allow_large_upload(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Runs before the CSRF check reads the form, which would otherwise stop an export
    # larger than the app's MAX_CONTENT_LENGTH before the upload view is reached.
    if endpoint == "studio.admin_import_check":
        request.max_content_length = MAX_UPLOAD_BYTES


def _staging_dir() -> Path:
    folder = Path(current_app.instance_path) / "studio-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _staged_path(name: str) -> Path | None:
    """The staged file `name` of the signed-in admin, if it is still there."""
    user = security.current_user()
    if user is None or not _STAGED_NAME.fullmatch(name):
        return None
    path = _staging_dir() / f"{user.id}-{name}.ndjson"
    return path if path.is_file() else None


def _forget_old_files() -> None:
    cutoff = time.time() - STAGED_LIFETIME_SECONDS
    for path in _staging_dir().glob("*.ndjson"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass  # another request removed it first


def _page(
    *,
    status: int = 200,
    form: pages.Form | None = None,
    report: ImportReport | None = None,
    staged: str | None = None,
    lines: dict[str, Any] | None = None,
) -> Response:
    return pages.render_page(
        "studio/admin/transfer.html",
        status=status,
        form=form or pages.Form(),
        report=report,
        staged=staged,
        lines=lines or {},
    )


@bp.get("/admin/transfer")
@security.requires(ACTION)
def admin_transfer() -> Response:
    """Export and import."""
    return _page()


@bp.get("/admin/transfer/export")
@security.requires(ACTION)
def admin_export() -> Response:
    """The whole content as NDJSON, the admin API's export format, streamed as read."""
    db.session.commit()  # the stream reads on a connection of its own
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")

    def stream() -> Iterator[bytes]:
        chunk: list[bytes] = []
        size = 0
        for line in export.export_lines():
            data = line.encode()
            chunk.append(data)
            size += len(data)
            if size >= 65536:
                yield b"".join(chunk)
                chunk, size = [], 0
        if chunk:
            yield b"".join(chunk)

    return Response(
        stream_with_context(stream()),
        mimetype=NDJSON,
        headers={"Content-Disposition": f'attachment; filename="cms-export-{stamp}.ndjson"'},
    )


def _import(path: Path, *, dry_run: bool) -> actions.Done[ImportReport]:
    def call(_actor: object) -> ImportReport:
        with path.open("rb") as lines:
            return importer.import_(lines, TransferRecords(), dry_run=dry_run)

    return actions.perform(call, writes=not dry_run)


def _refused(done: actions.Done[ImportReport]) -> Response:
    assert done.error is not None
    form = pages.Form().refuse_with(done.error)
    lines = (done.error.extra.get("errors") or {}).get("lines") or {}
    return _page(status=422, form=form, lines=lines)


@bp.post("/admin/transfer/import")
@security.requires(ACTION)
def admin_import_check() -> Response:
    """Check an uploaded export without applying it, and keep it for the Import button."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form = pages.Form().refuse(
            "Choose an export file to import.", file=["Choose an export file."]
        )
        return _page(status=422, form=form)
    _forget_old_files()
    user = security.current_user()
    assert user is not None  # requires
    name = secrets.token_urlsafe(24)
    path = _staging_dir() / f"{user.id}-{name}.ndjson"
    upload.save(path)
    done = _import(path, dry_run=True)
    if not done.ok:
        os.unlink(path)
        return _refused(done)
    return _page(report=done.value, staged=name)


@bp.post("/admin/transfer/import/apply")
@security.requires(ACTION)
def admin_import_apply() -> Response:
    """Apply a file checked a moment ago, all of it or nothing."""
    path = _staged_path(request.form.get("staged", ""))
    if path is None:
        form = pages.Form().refuse(
            "That checked file is no longer here (files are kept for an hour). Upload it again."
        )
        return _page(status=422, form=form)
    done = _import(path, dry_run=False)
    path.unlink(missing_ok=True)
    if not done.ok:
        return _refused(done)
    assert done.value is not None
    pages.notice(
        "The file is imported." if done.value.changed else "The file changed nothing.",
        category="success",
    )
    return _page(report=done.value)
