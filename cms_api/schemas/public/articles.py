"""Shapes of published articles, their parts, and the article list's query."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate
from webargs.fields import DelimitedList

from cms_api.schemas.common import (
    CODE_PATTERN,
    Locale,
    PageArgs,
    Rfc3339DateTime,
    StrictSchema,
    list_schema,
    nullable_text,
    slug_field,
    text,
)
from cms_api.schemas.public.faqs import FaqEntryOut
from cms_api.schemas.public.images import ImageOut, ImageSummaryOut, LogoOut
from cms_api.schemas.public.people import PersonProfileOut, ReviewerOut
from cms_api.schemas.public.topics import TopicRefOut, TopicSummaryOut

R = {"required": True}
ARTICLE_SORTS = ["-published_at", "published_at", "-updated_at", "title", "-last_reviewed_at"]
LINK_RELATIONS = ["see_also", "similar_symptom", "complication_of", "treatment_for", "differential"]


class AuthorRefOut(ma.Schema):
    slug = slug_field(**R, metadata={"example": "miriam-castellanos-reed"})
    display_name = text("Dr. Miriam Castellanos-Reed, MD", **R)


class SummarySeoOut(ma.Schema):
    canonical_url = nullable_text(
        None,
        metadata={
            "description": "The page search engines should index for this article, when "
            "the editor named one (the article's `seo.canonical_url`).",
            "example": "https://www.example-health.org/articles/headache-after-botox",
        },
    )


class ArticleSummaryOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = slug_field(**R)
    locale = text(
        "en",
        metadata={
            "description": "The locale (BCP 47 tag) the article is written in; a slug is "
            "unique within its locale."
        },
    )
    url = text("/v1/articles/headache-after-botox", **R)
    title = text("Headache After Botox: Causes, Prevention and Treatment", **R)
    summary = text("Why a headache can follow Botox injections and how to ease it.", **R)
    topics = ma.fields.List(ma.fields.Nested(TopicRefOut), **R)
    authors = ma.fields.List(ma.fields.Nested(AuthorRefOut), **R)
    published_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(**R)
    last_reviewed_at = ma.fields.Date(required=True, allow_none=True)
    reading_time_minutes = ma.fields.Integer(**R, metadata={"example": 8})
    lead_image = ma.fields.Nested(
        ImageSummaryOut,
        required=True,
        allow_none=True,
        metadata={"description": "The lead image's small form, for a card; null for none."},
    )
    seo = ma.fields.Nested(SummarySeoOut, **R)


class SectionOut(ma.Schema):
    key = text("causes", **R, metadata={"description": "Stable key, usable in `?sections=`."})
    heading = text("What causes a headache after Botox?", **R)
    heading_html = text(
        '<h2 id="causes">What causes a headache after Botox?</h2>',
        **R,
        metadata={
            "description": "The heading as HTML (`<h2>` for a section, `<h3>` for a "
            "subsection), its text escaped, with `id` the section's `key`: the target of a "
            "table of contents' `#key` links. Keys are unique within an article; no other "
            "`id` appears in its HTML."
        },
    )
    body_html = text("<p>Several things can play a part.</p>", **R)
    subsections = ma.fields.List(ma.fields.Nested(lambda: SectionOut()), **R)


class CitationOut(ma.Schema):
    title = text("OnabotulinumtoxinA for treatment of chronic migraine", **R)
    authors = nullable_text("Dodick DW, Turkel CC, DeGryse RE, et al.")
    publisher = nullable_text(
        None,
        metadata={
            "description": "The organisation behind the source (a web page's owner, a "
            "report's press); a journal is named in `periodical`.",
            "example": "U.S. National Library of Medicine",
        },
    )
    periodical = nullable_text(
        None, metadata={"description": "The journal a journal article appeared in."}
    )
    year = ma.fields.Integer(required=True, allow_none=True, metadata={"example": 2010})
    doi = nullable_text("10.1111/j.1526-4610.2010.01678.x")
    pmid = nullable_text("20487038")
    url = nullable_text("https://doi.org/10.1111/j.1526-4610.2010.01678.x")


class RelatedOut(ma.Schema):
    relation = text("see_also", validate=validate.OneOf(LINK_RELATIONS), **R)
    anchor_text = nullable_text("TMJ headache")
    weight = ma.fields.Float(**R, metadata={"example": 0.7})
    url = text(
        "https://www.example-health.org/articles/tmj-headache",
        **R,
        metadata={
            "description": "The related article on the publisher's site: its canonical URL "
            "when it has one, else its own page (JSON-LD `relatedLink`)."
        },
    )
    article = ma.fields.Nested(ArticleSummaryOut, **R)


class CallToActionOut(ma.Schema):
    key = nullable_text("symptom-checker")
    kind = nullable_text("symptom_checker")
    title = nullable_text("Not sure what is causing your headache?")
    body_html = nullable_text("<p>Answer a few questions to understand your symptoms.</p>")
    button_label = nullable_text("Check your symptoms")
    url = nullable_text("https://www.example-health.org/symptom-checker")
    advertising = ma.fields.Boolean(**R, metadata={"description": "Whether it is paid promotion."})
    label = nullable_text(
        None,
        metadata={
            "description": "What to show beside an advertising call to action "
            "(`Advertisement` unless the editor chose a label); null for the others.",
            "example": "Advertisement",
        },
    )


class DisclosedOrganizationOut(ma.Schema):
    name = text("Calder Vale Skin Health Trust", **R)
    url = nullable_text("https://www.example.org/")


class DisclosuresOut(ma.Schema):
    sponsor = ma.fields.Nested(
        DisclosedOrganizationOut,
        required=True,
        allow_none=True,
        metadata={"description": "An organisation that paid for or supported the article."},
    )
    funder = ma.fields.Nested(
        DisclosedOrganizationOut,
        required=True,
        allow_none=True,
        metadata={"description": "An organisation that funded the work the article reports."},
    )
    conflicts_of_interest = nullable_text(
        None,
        metadata={
            "description": "The authors' and reviewers' conflict-of-interest statement "
            "(plain text)."
        },
    )
    advertising = ma.fields.Boolean(
        **R, metadata={"description": "Whether any call to action is advertising."}
    )


class PublisherOut(ma.Schema):
    name = text("Example Health", **R)
    url = text("https://www.example-health.org/", **R)
    editorial_policy_url = nullable_text(
        "https://www.example-health.org/editorial-policy",
        metadata={
            "description": "How the publisher writes, reviews, funds and corrects content "
            "(`CMS_EDITORIAL_POLICY_URL`)."
        },
    )
    logo = ma.fields.Nested(
        LogoOut,
        required=True,
        allow_none=True,
        metadata={
            "description": "`CMS_PUBLISHER_LOGO_URL` (no size known), else the media "
            "library's image named `publisher-logo` (its original file); JSON-LD `logo`."
        },
    )


class SeoOut(ma.Schema):
    meta_title = text("Headache After Botox: Causes and Relief", **R)
    meta_description = text("Why headaches can follow Botox and what helps.", **R)
    canonical_url = nullable_text("https://www.example-health.org/articles/headache-after-botox")


_CANONICAL = "https://www.example-health.org/articles/headache-after-botox"
_AUTHOR = "https://www.example-health.org/people/miriam-castellanos-reed#person"
_REVIEWER = "https://www.example-health.org/people/tobias-lindqvist#person"
_PUBLISHER = "https://www.example-health.org/#organization"
_HEADACHE = "https://www.example-health.org/topics/headache#topic"
# The seeded article's JSON-LD, with one of each kind of node and list entry.
JSONLD_EXAMPLE = {
    "@context": "https://schema.org",
    "@graph": [
        {
            "@type": "MedicalWebPage",
            "@id": f"{_CANONICAL}#webpage",
            "url": _CANONICAL,
            "name": "Headache After Botox: Causes, Prevention and Treatment",
            "description": "Why headaches can follow Botox injections and what helps.",
            "about": [{"@id": _HEADACHE}],
            "mainEntity": {"@id": f"{_CANONICAL}#article"},
            "lastReviewed": "2026-10-02",
            "reviewedBy": [{"@id": _REVIEWER}],
            "isPartOf": {"@id": "https://www.example-health.org/#website"},
            "specialty": ["https://schema.org/Neurologic", "https://schema.org/Dermatology"],
            "medicalAudience": {"@type": "Patient"},
            "breadcrumb": {
                "@type": "BreadcrumbList",
                "@id": f"{_CANONICAL}#breadcrumb",
                "itemListElement": [
                    {
                        "@type": "ListItem",
                        "position": 1,
                        "name": "Headache",
                        "item": "https://www.example-health.org/topics/headache",
                    },
                    {
                        "@type": "ListItem",
                        "position": 2,
                        "name": "Headache After Botox: Causes, Prevention and Treatment",
                        "item": _CANONICAL,
                    },
                ],
            },
            "relatedLink": ["https://www.example-health.org/articles/tmj-headache"],
            "publisher": {"@id": _PUBLISHER},
        },
        {
            "@type": "Article",
            "@id": f"{_CANONICAL}#article",
            "url": _CANONICAL,
            "mainEntityOfPage": {"@id": f"{_CANONICAL}#webpage"},
            "headline": "Headache After Botox: Causes, Prevention and Treatment",
            "description": "Why some people get a headache after botulinum toxin injections.",
            "datePublished": "2026-10-05T09:00:00Z",
            "dateModified": "2026-10-05T09:00:00Z",
            "author": [{"@id": _AUTHOR}],
            "publisher": {"@id": _PUBLISHER},
            "timeRequired": "PT9M",
            "citation": [
                {
                    "@type": "ScholarlyArticle",
                    "name": "Botulinum toxins for the prevention of migraine in adults",
                    "creditText": "Herd CP, Tomlinson CL, Rick C, et al.",
                    "isPartOf": {
                        "@type": "Periodical",
                        "name": "Cochrane Database of Systematic Reviews",
                    },
                    "datePublished": "2018",
                    "url": "https://doi.org/10.1002/14651858.CD011616.pub2",
                    "identifier": [
                        {"@type": "PropertyValue", "propertyID": "PMID", "value": "29939406"}
                    ],
                    "sameAs": ["https://pubmed.ncbi.nlm.nih.gov/29939406/"],
                }
            ],
            "hasPart": [
                {
                    "@type": "Question",
                    "@id": f"{_CANONICAL}#faq-3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
                    "name": "How long does a headache after Botox usually last?",
                    "text": "How long does a headache after Botox usually last?",
                    "acceptedAnswer": {
                        "@type": "Answer",
                        "text": "<p>Most fade over the next two or three days.</p>",
                    },
                }
            ],
        },
        {
            "@type": "WebSite",
            "@id": "https://www.example-health.org/#website",
            "url": "https://www.example-health.org/",
            "name": "Example Health",
            "publisher": {"@id": _PUBLISHER},
        },
        {
            "@type": "Organization",
            "@id": _PUBLISHER,
            "name": "Example Health",
            "url": "https://www.example-health.org/",
        },
        {
            "@type": "Person",
            "@id": _REVIEWER,
            "name": "Tobias Lindqvist",
            "honorificPrefix": "Dr.",
            "honorificSuffix": "MD",
            "jobTitle": "Dermatologist",
            "url": "https://www.example-health.org/people/tobias-lindqvist",
            "sameAs": ["https://orcid.org/0000-0003-1864-2070"],
            "knowsAbout": ["Dermatology"],
            "hasCredential": [
                {
                    "@type": "EducationalOccupationalCredential",
                    "credentialCategory": "board certification",
                    "name": "Board Certification in Dermatology",
                    "recognizedBy": {
                        "@type": "Organization",
                        "name": "American Board of Dermatology",
                    },
                    "identifier": "D-FX-20917",
                    "expires": "2027-12-31",
                }
            ],
        },
        {
            "@type": "MedicalSignOrSymptom",
            "@id": _HEADACHE,
            "name": "Headache",
            "url": "https://www.example-health.org/topics/headache",
            "code": [
                {
                    "@type": "MedicalCode",
                    "codeValue": "R51.9",
                    "codingSystem": "ICD-10-CM",
                    "name": "Headache, unspecified",
                }
            ],
        },
    ],
}


class JsonLdOut(ma.Schema):
    """schema.org JSON-LD: one graph of nodes that refer to each other by `@id`."""

    context = text("https://schema.org", data_key="@context", **R)
    graph = ma.fields.List(
        ma.fields.Dict(),
        data_key="@graph",
        **R,
        metadata={
            "description": "The `MedicalWebPage`, its `Article`, the `WebSite` the page "
            "is part of, the publishing `Organization`, each `Person` (author or "
            "reviewer, described once), and the "
            "topics the page is about (`MedicalSignOrSymptom`, `MedicalCondition` or "
            "`MedicalEntity`, with their `MedicalCode`s). Absent values are left out, "
            "never null.",
            "example": JSONLD_EXAMPLE["@graph"],
        },
    )


class ReviewOfRecordOut(ma.Schema):
    kind = text("clinical", validate=validate.OneOf(["clinical"]), **R)
    revision = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The revision the review approved (live now, or before it)."},
    )
    reviewed_on = ma.fields.Date(**R)
    reviewers = ma.fields.List(ma.fields.Nested(PersonProfileOut), **R)
    next_review_due = ma.fields.Date(**R)


class CorrectionOut(ma.Schema):
    date = ma.fields.Date(**R, metadata={"description": "When the correction went live."})
    note = text("Corrected the number of hours to stay upright after treatment.", **R)
    revision = ma.fields.Integer(required=True, allow_none=True)


class TranslationOut(ma.Schema):
    locale = text("es", **R)
    slug = slug_field(**R, metadata={"example": "dolor-de-cabeza-tras-botox"})
    url = text(
        "https://www.example-health.org/es/articles/dolor-de-cabeza-tras-botox",
        **R,
        metadata={"description": "The page on the publisher's site in that locale."},
    )


class TranslationOfOut(ma.Schema):
    locale = text("en", **R)
    slug = slug_field(**R)
    revision = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The source's revision the translation was made from."},
    )


class ArticleOut(ArticleSummaryOut):
    lead_image = ma.fields.Nested(
        ImageOut,
        required=True,
        allow_none=True,
        metadata={
            "description": "The picture at the top of the article (JSON-LD `image` and "
            "`primaryImageOfPage`); null for none. Images inside sections are `<img>` "
            "elements in `body_html`, with `srcset`, `sizes`, `width` and `height`."
        },
    )
    sections = ma.fields.List(ma.fields.Nested(SectionOut), **R)
    faqs = ma.fields.List(ma.fields.Nested(FaqEntryOut), **R)
    authors = ma.fields.List(ma.fields.Nested(PersonProfileOut), **R)
    reviewers = ma.fields.List(
        ma.fields.Nested(ReviewerOut),
        **R,
        metadata={
            "description": "The reviewers of the review of record (see `review`), each with "
            "the day they signed it off."
        },
    )
    review = ma.fields.Nested(
        ReviewOfRecordOut,
        required=True,
        allow_none=True,
        metadata={
            "description": "The review of record: the latest clinical review of content that "
            "went live. Approvals of unpublished or withdrawn revisions never count, and a "
            "correction does not move it. `last_reviewed_at` and JSON-LD `lastReviewed` "
            "follow it."
        },
    )
    corrections = ma.fields.List(
        ma.fields.Nested(CorrectionOut),
        **R,
        metadata={
            "description": "Reviewed corrections that went live, newest first (JSON-LD "
            "`correction`)."
        },
    )
    topics = ma.fields.List(ma.fields.Nested(TopicSummaryOut), **R)
    citations = ma.fields.List(ma.fields.Nested(CitationOut), **R)
    related = ma.fields.List(ma.fields.Nested(RelatedOut), **R)
    disclaimer_html = nullable_text("<p>This article is for general information.</p>")
    call_to_actions = ma.fields.List(ma.fields.Nested(CallToActionOut), **R)
    disclosures = ma.fields.Nested(
        DisclosuresOut,
        **R,
        metadata={"description": "Sponsorship, funding, conflicts of interest, advertising."},
    )
    publisher = ma.fields.Nested(PublisherOut, **R)
    seo = ma.fields.Nested(SeoOut, **R)
    next_review_due = ma.fields.Date(required=True, allow_none=True)
    translations = ma.fields.List(
        ma.fields.Nested(TranslationOut),
        metadata={
            "description": "The other published translations of the same work (the "
            "original included, this one not), by locale: read one with "
            "`?locale=<locale>` at its slug."
        },
    )
    translation_of = ma.fields.Nested(
        TranslationOfOut,
        allow_none=True,
        metadata={
            "description": "A translation: its source article (locale, slug) and the "
            "source revision it was translated from; null for an original."
        },
    )
    outdated = ma.fields.Boolean(
        metadata={
            "description": "A translation whose source has published a newer revision "
            "than the one it was translated from; false for an original."
        },
    )
    structured_data = ma.fields.Nested(
        JsonLdOut,
        **R,
        metadata={
            "description": "The article's schema.org JSON-LD, as "
            "`GET /v1/articles/{slug}/jsonld` serves it. To embed it in a "
            '`<script type="application/ld+json">` element, serialize it with `<`, `>` and '
            "`&` escaped (`\\u003c`...), or take the text that endpoint serves, which is.",
            "example": JSONLD_EXAMPLE,
        },
    )


class ArticleQueryArgs(PageArgs):
    topic = slug_field(
        metadata={"description": "Articles on this topic or its subtopics.", "example": "headache"}
    )
    author = slug_field(
        metadata={"description": "Articles by this person.", "example": "miriam-castellanos-reed"}
    )
    reviewer = slug_field(
        metadata={"description": "Articles reviewed by this person.", "example": "tobias-lindqvist"}
    )
    code = ma.fields.String(
        validate=validate.Regexp(
            CODE_PATTERN, error="Expected SYSTEM:CODE with SYSTEM one of icd10cm, snomed, mesh."
        ),
        metadata={
            "description": "Articles whose topics carry this medical code.",
            "example": "icd10cm:R51.9",
        },
    )
    updated_since = Rfc3339DateTime(
        metadata={
            "description": "Only articles updated at or after this RFC 3339 time.",
            "example": "2026-01-01T00:00:00Z",
        },
    )
    sort = ma.fields.String(
        load_default="-published_at",
        validate=validate.OneOf(ARTICLE_SORTS),
        metadata={"description": "Order of the list.", "example": "-published_at"},
    )
    locale = Locale()


class ArticleDetailArgs(StrictSchema):
    # The seeded examples are in the default locale: an example in another would be a 404.
    locale = Locale(metadata={"example": "en"})
    sections = DelimitedList(
        ma.fields.String(
            validate=[
                validate.Length(min=1, max=80),
                validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
            ]
        ),
        validate=validate.Length(min=1, max=50),
        metadata={
            "description": "Only these sections (comma-separated keys); sub-section "
            "keys select the sub-section alone.",
            "example": ["causes", "treatment"],
        },
    )


class ArticleRelatedOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RelatedOut), **R)


class ArticleFaqsOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FaqEntryOut), **R)


ArticleList = list_schema(ArticleSummaryOut, "ArticleList")
