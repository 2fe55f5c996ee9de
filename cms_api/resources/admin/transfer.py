"""Admins export all content as NDJSON and import such a file into this database."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from flask import Response, request, stream_with_context
from flask.views import MethodView

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import DomainError
from cms_api.http.admin import AdminBlueprint
from cms_api.http.arguments import no_query_args
from cms_api.http.problems import PROBLEM_CONTENT_TYPE, ProblemSchema
from cms_api.http.requests import NDJSON_BODY_LIMITS
from cms_api.schemas.admin.transfer import ImportArgs, ImportReport, TransferRecords
from cms_api.services.integrations.transfer import export, importer

NDJSON = "application/x-ndjson"
# Also taken as text/plain: what `curl --data-binary` users and tools without an NDJSON
# type (schemathesis among them) send. The body is NDJSON either way.
IMPORT_TYPES = (NDJSON, "text/plain")
IMPORT_PATH = "/v1/admin/import"

blp = AdminBlueprint(
    "admin_transfer",
    __name__,
    url_prefix="/v1/admin",
    description="Move all content between environments as NDJSON (admins only).",
)

_ID = "5b0f8f9e-8a47-4d43-9d35-0c1f3f7d2a61"
EXPORT_EXAMPLE = "\n".join(
    [
        '{"type":"header","format":"cms-api-export","version":1,"schema":"0019",'
        '"exported_at":"2026-11-29T07:19:44.512000Z"}',
        f'{{"type":"person","id":"{_ID}","slug":"ana-ruiz","name":"Ana Ruiz",'
        '"honorific_prefix":"Dr.","honorific_suffix":"MD","job_title":"Neurologist",'
        '"bio":null,"photo_url":null,"image_id":null,"profile_links":[],'
        '"specialties":["Neurology"],"review_locales":["en","es"],'
        '"created_at":"2026-01-05T09:00:00Z","updated_at":"2026-01-05T09:00:00Z",'
        '"deleted_at":null,"version":1}',
        '{"type":"person_translation","id":"8d1c2b3a-4e5f-4a6b-9c7d-0e1f2a3b4c5d",'
        f'"person_id":"{_ID}","locale":"es","job_title":"Neuróloga","bio":null,'
        '"created_at":"2026-01-06T09:00:00Z","updated_at":"2026-01-06T09:00:00Z",'
        '"version":1}',
        '{"type":"end","records":{"image":0,"image_file":0,"person":1,"credential":0,'
        '"person_translation":1,"red_flag":0,"topic":0,"medical_code":0,'
        '"topic_translation":0,"article":0,"former_slug":0,"section":0,"citation":0,'
        '"article_author":0,"article_topic":0,"medical_review":0,"faq":0,'
        '"related_link":0,"revision":0}}',
        "",
    ]
)


@blp.route("/export")
class ExportView(MethodView):
    @blp.authorize("content:transfer")
    @no_query_args(blp)
    @blp.doc(
        responses={
            "200": {
                "description": "The export, streamed as it is read.",
                "headers": {
                    "Content-Disposition": {
                        "description": "A file name with the time of the export.",
                        "schema": {"type": "string"},
                    }
                },
                "content": {NDJSON: {"schema": {"type": "string"}, "example": EXPORT_EXAMPLE}},
            }
        }
    )
    def get(self) -> Response:
        """Export all content

        Every person, topic, article (with its sections, citations, authors, topics,
        medical reviews, former slugs and revisions), FAQ and related link, as NDJSON read
        from one consistent snapshot and streamed, so the size of the database does not
        matter. `POST /v1/admin/import` (or `cms-api import`) loads it into another
        database with the same ids, slugs, revisions and links.

        One JSON object per line, each with a `type`. The first line is the `header`:
        `format` (`cms-api-export`), `version` (1), `schema` (the migration the exporting
        database was at) and `exported_at`. Then one record per row, parents before
        children: `image`, `image_file`, `person`, `credential`, `person_translation`,
        `red_flag`, `topic` (each before its subtopics), `medical_code`,
        `topic_translation`, `article` (drafts, archived and trashed ones too, with status,
        live revision and publication schedule; originals before translations),
        `former_slug`, `section`, `citation`, `article_author`, `article_topic`,
        `medical_review`, `faq`, `related_link`, `revision`. A record carries its row's
        id and every column: ids as UUID strings,
        timestamps RFC 3339 in UTC, dates `YYYY-MM-DD`, locales as BCP 47 tags in their
        normal form. Every language travels: an article's `locale`, and for a
        translation its `source_id` and `source_revision`; FAQs' and former slugs'
        `locale`; people's `review_locales`; and the other locales' names, descriptions,
        synonyms, job titles and bios of topics and people (`topic_translation`,
        `person_translation`). The last line is `end`, with the
        number of records of each type, so a file cut short is refused. Users, tokens,
        the audit log, reader questions, webhooks, preview tokens, the change feed and
        published documents are not content and are not exported: the importing database
        renders its own published documents.
        """
        # The token's last use is saved now: the stream reads on a connection of its own.
        db.session.commit()
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        return Response(
            stream_with_context(_stream()),
            mimetype=NDJSON,
            headers={"Content-Disposition": f'attachment; filename="cms-export-{stamp}.ndjson"'},
        )


def _stream() -> Iterator[bytes]:
    # Lines go out in chunks of about 64 KiB: one write per line would cost more than
    # reading the line did.
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


@blp.route("/import")
class ImportView(MethodView):
    @blp.authorize("content:transfer")
    @blp.query_args(ImportArgs)
    @blp.doc(
        requestBody={
            "required": True,
            "description": "An export, as `application/x-ndjson` (or `text/plain`), at most "
            f"{NDJSON_BODY_LIMITS[IMPORT_PATH] >> 20} MiB; `cms-api import FILE` takes files "
            "of any size.",
            # The example sits under text/plain only: schemathesis would try to send it
            # as NDJSON, which it cannot encode.
            "content": {
                NDJSON: {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}, "example": EXPORT_EXAMPLE},
            },
        }
    )
    @blp.response(
        200,
        ImportReport,
        example={
            "dry_run": False,
            "source_schema": "0005",
            "target_schema": "0005",
            "exported_at": "2026-11-29T07:19:44.512Z",
            "types": {
                "person": {"records": 1, "inserted": 1, "updated": 0, "unchanged": 0, "deleted": 0}
            },
            "changed": True,
            "rendered_articles": 0,
            "warnings": [],
        },
    )
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(
        422,
        schema=ProblemSchema,
        content_type=PROBLEM_CONTENT_TYPE,
        description="The file cannot be imported, and nothing was: `errors.lines` maps "
        "each offending line's number to its messages by field (`_schema` for the line as "
        "a whole). At most 100 lines are listed.",
        example={
            "type": "/problems/validation-error",
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "1 line is inconsistent with the file or with this database; nothing "
            "was imported.",
            "instance": IMPORT_PATH,
            "errors": {
                "lines": {
                    "214": {
                        "target_id": [
                            f"Unknown article {_ID}: neither in the file nor in this database."
                        ]
                    }
                }
            },
            "request_id": "8f14e45fceea167a5a36dedd4bea2543",
        },
    )
    def post(self, args: dict[str, Any]) -> Any:
        """Import an export

        Checks every line first: each record against its type's schema, then the whole
        file against itself and this database (every reference resolves, no slug is taken
        by another row (an article's, by another article of its locale), the topic tree
        has no loop, each article's live revision is there, a translation is of an
        original in another locale and the only one in its locale, an article's FAQs and
        former slugs are in its locale, and no topic or person translation is in this
        site's default locale, which is their own text). Any error answers 422 naming the
        lines, and nothing is imported. Content in a locale this site does not serve
        (CMS_LOCALES) is imported with a warning. Otherwise the whole file is applied in
        one transaction. Rows are matched by id: new ones are added, changed ones updated
        (with a version this database never issued), and rows this database already has
        exactly are not written. An article, person or topic in the file arrives whole:
        sections, citations, revisions, credentials, codes, translations of a topic's or
        person's text... it has here but the file lacks are removed. Content the file
        does not mention is left as it is. Published documents are then rendered again,
        so delivery serves the imported content. Importing the same file twice changes
        nothing the second time (no writes, no new versions, no change-feed events).
        `dry_run=true` checks the file and reports what would change without applying it.
        A conflict with an edit made meanwhile answers 409.
        """
        if request.mimetype not in IMPORT_TYPES:
            raise DomainError(
                f"Send the export as `Content-Type: {NDJSON}`.",
                status=415,
                kind="unsupported-media-type",
            )
        # Buffered, so lines are read a block at a time rather than byte by byte.
        lines = io.BufferedReader(request.stream)  # type: ignore[arg-type]
        report = importer.import_(lines, TransferRecords(), dry_run=args["dry_run"])
        db.session.commit()
        return report.as_dict()
