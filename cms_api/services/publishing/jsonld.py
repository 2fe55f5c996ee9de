"""schema.org JSON-LD for published articles: built at publish time, served as stored."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import quote

from cms_api.domain.errors import NotFound
from cms_api.domain.etags import etag_for
from cms_api.domain.specialties import SUPERSEDED
from cms_api.models import MedicalCode, Topic
from cms_api.services import runtime
from cms_api.services.delivery import documents as delivery
from cms_api.services.delivery.documents import StoredDocument
from cms_api.services.publishing import images, site

CONTENT_TYPE = "application/ld+json"
CONTEXT = "https://schema.org"
# Bump when the served text changes for the same stored document (say, the escaping), so
# that ETags derived from the stored document's ETag change with it.
SERIALIZATION_VERSION = "1"

CODING_SYSTEMS = {"icd10cm": "ICD-10-CM", "snomed": "SNOMED-CT", "mesh": "MeSH"}
CREDENTIAL_CATEGORIES = {
    "degree": "degree",
    "license": "license",
    "board_certification": "board certification",
}
# Articles are patient education: written for patients and the people who care for them.
# `medicalAudience` takes a MedicalAudience or a MedicalAudienceType, an enumeration whose
# only members are Clinician and MedicalResearcher; Patient is a type, a subtype of
# MedicalAudience (and of Person). So a typed node, which schema.org's validator reads as a
# MedicalAudience (no Google rich result reads the property), rather than
# `audienceType: "Patient"` (free text) or the IRI https://schema.org/Patient (a class,
# not an enumeration member, where the property expects one).
AUDIENCE = {"@type": "Patient"}


class Labels(Protocol):
    """What a document's locale calls its topics, and where its topics' and people's pages
    are (render.Labels)."""

    def topic_name(self, topic: Topic) -> str: ...

    def topic_description(self, topic: Topic) -> str | None: ...

    def page_url(self, kind: str, slug: str) -> str: ...


# -- building (publish time) ---------------------------------------------------------------


def article_graph(
    document: dict[str, Any], topics: list[Topic], labels: Labels | None = None
) -> dict[str, Any]:
    """The article's JSON-LD, derived from its public document so the two always agree.

    `topics` are the article's topics (the document's `topics`, as rows), for what the
    document does not carry: descriptions and the ancestry the breadcrumb follows;
    `labels` name them, and say where their pages are, in the document's locale.
    """
    locale = document.get("locale")
    pages = _Pages(labels)
    own = site.page_url("article", document["slug"], locale)
    # Node ids name this page, so two articles never describe one node, even when one
    # declares the other its canonical page. `url` is the canonical page: Google asks
    # duplicate pages to carry the same structured data as their canonical page, and
    # indexes only the canonical URL.
    canonical = document["seo"]["canonical_url"] or own
    page_id, article_id = f"{own}#webpage", f"{own}#article"
    organization = _publisher()
    website = _website(organization)
    people = {person["slug"]: person for person in document["authors"] + document["reviewers"]}
    crops = _lead_images(document.get("lead_image"), own)
    lead_images = [_ref(node["@id"]) for node in crops]
    page = {
        "@type": "MedicalWebPage",
        "@id": page_id,
        "url": canonical,
        "name": document["title"],
        "description": document["seo"]["meta_description"],
        "inLanguage": locale,
        "about": [_ref(pages.topic_id(topic.slug)) for topic in topics],
        "mainEntity": _ref(article_id),
        # The first crop (16:9): the one a page's preview shows.
        "primaryImageOfPage": lead_images[0] if lead_images else None,
        "lastReviewed": document["last_reviewed_at"],
        "reviewedBy": [_ref(pages.person_id(person["slug"])) for person in document["reviewers"]],
        # What the page is about decides its specialty, not who wrote or reviewed it.
        "specialty": specialties(topics),
        "medicalAudience": AUDIENCE,
        "isPartOf": _ref(website["@id"]),
        "breadcrumb": _breadcrumb(topics, document["title"], own, canonical, pages),
        # The document's related entries already point at each one's canonical page.
        "relatedLink": [item["url"] for item in document["related"]],
        "publisher": _ref(organization["@id"]),
        "publishingPrinciples": organization.get("publishingPrinciples"),
    }
    disclosures = document.get("disclosures") or {}
    article = {
        "@type": "Article",
        "@id": article_id,
        "url": canonical,
        "mainEntityOfPage": _ref(page_id),
        "headline": document["title"],
        "description": document["summary"],
        "inLanguage": locale,
        # The same work in other languages: an original names its translations' pages, a
        # translation the page of the original it was made from (when that is published).
        "workTranslation": [_ref(item["url"]) for item in document.get("translations") or []]
        if not document.get("translation_of")
        else None,
        "translationOfWork": _source_ref(document),
        "image": lead_images,
        "datePublished": document["published_at"],
        "dateModified": document["updated_at"],
        "author": [_ref(pages.person_id(person["slug"])) for person in document["authors"]],
        "publisher": _ref(organization["@id"]),
        "sponsor": _organization(disclosures.get("sponsor")),
        "funder": _organization(disclosures.get("funder")),
        "timeRequired": f"PT{document['reading_time_minutes']}M",
        "citation": [_citation(item) for item in document["citations"]],
        "hasPart": [_question(faq, own) for faq in document["faqs"]],
        # Published corrections: minor edits a reviewer approved without a full review.
        "correction": [_correction(item) for item in document.get("corrections") or []],
    }
    graph = [
        page,
        article,
        website,
        *crops,
        organization,
        *(_person(person, pages) for person in people.values()),
        *(_topic(topic, pages) for topic in topics),
    ]
    return _compact({"@context": CONTEXT, "@graph": graph})


def _source_ref(document: dict[str, Any]) -> dict[str, str] | None:
    """The published page of the original a translation was made from, if any."""
    source = document.get("translation_of")
    if not source:
        return None
    for item in document.get("translations") or []:
        if (item["locale"], item["slug"]) == (source["locale"], source["slug"]):
            return _ref(item["url"])
    return None


class _Pages:
    """The pages of the topics and people a graph names, in its document's locale where
    they have one (and their text in it); without labels, the default locale's."""

    def __init__(self, labels: Labels | None) -> None:
        self.labels = labels

    def url(self, kind: str, slug: str) -> str:
        if self.labels is None:
            return site.page_url(kind, slug)
        return self.labels.page_url(kind, slug)

    def person_id(self, slug: str) -> str:
        return f"{self.url('person', slug)}#person"

    def topic_id(self, slug: str) -> str:
        return f"{self.url('topic', slug)}#topic"

    def topic_name(self, topic: Topic) -> str:
        return self.labels.topic_name(topic) if self.labels is not None else topic.name

    def topic_description(self, topic: Topic) -> str | None:
        if self.labels is None:
            return topic.description
        return self.labels.topic_description(topic)


def topic_specialty(topic: Topic) -> str | None:
    """The topic's MedicalSpecialty member: its own, else the nearest ancestor's (by the
    name schema.org uses now, for a member it has since replaced)."""
    seen: set[Any] = set()
    current: Topic | None = topic
    while current is not None and current.id not in seen:
        if current.specialty:
            return SUPERSEDED.get(current.specialty, current.specialty)
        seen.add(current.id)
        current = current.parent
    return None


def specialties(topics: Iterable[Topic]) -> list[str]:
    """The MedicalSpecialty members of the topics, in topic order, each once."""
    found = [_specialty_iri(topic_specialty(topic)) for topic in topics]
    return [iri for iri in dict.fromkeys(found) if iri]


def _specialty_iri(member: str | None) -> str | None:
    return f"{CONTEXT}/{member}" if member else None


def condition_type(codes: Iterable[MedicalCode]) -> str:
    """The schema.org type of a topic, decided from its ICD-10-CM codes.

    Chapter R of ICD-10-CM holds symptoms and signs, so a topic coded only there is a
    `MedicalSignOrSymptom`; any other ICD-10-CM code makes it a `MedicalCondition` (the
    wider type, also right for a symptom coded elsewhere, such as ear pain). A topic with
    no ICD-10-CM code (a treatment family such as cosmetic injectables) claims neither.
    """
    icd = [item.code.upper() for item in codes if item.system == "icd10cm"]
    if not icd:
        return "MedicalEntity"
    return (
        "MedicalSignOrSymptom" if all(code.startswith("R") for code in icd) else "MedicalCondition"
    )


def _ref(node_id: str) -> dict[str, str]:
    return {"@id": node_id}


def _publisher() -> dict[str, Any]:
    settings = runtime.settings()
    logo = images.publisher_logo()
    return {
        "@type": "Organization",
        "@id": f"{site.base_url()}/#organization",
        "name": settings.publisher_name,
        "url": f"{site.base_url()}/",
        "logo": _image_object(logo["url"], logo["width"], logo["height"]) if logo else None,
        "publishingPrinciples": settings.editorial_policy_url,
    }


def _website(organization: dict[str, Any]) -> dict[str, Any]:
    """The publisher's site, which every page is part of. No `potentialAction`: the site
    has no documented public search address to describe as a SearchAction."""
    return {
        "@type": "WebSite",
        "@id": f"{site.base_url()}/#website",
        "url": f"{site.base_url()}/",
        "name": runtime.settings().publisher_name,
        "publisher": _ref(organization["@id"]),
    }


def _image_object(url: str, width: int | None, height: int | None) -> dict[str, Any]:
    return {"@type": "ImageObject", "url": url, "width": width, "height": height}


def _lead_images(image: dict[str, Any] | None, own: str) -> list[dict[str, Any]]:
    """The lead image in each of its crops (16:9, 4:3, 1:1, as Google asks for), each at
    its largest size, as nodes the page and the article refer to; the first is the page's
    primary image."""
    if not image:
        return []
    return [
        {
            "@type": "ImageObject",
            "@id": f"{own}#primaryimage" if not index else f"{own}#image-{ratio.replace(':', 'x')}",
            **_image_object(crop["src"], crop["width"], crop["height"]),
            "caption": image["caption"],
            "creditText": image["credit"],
            "license": image["license_url"],
        }
        for index, (ratio, crop) in enumerate(image["ratios"].items())
    ]


def _person_image(profile: dict[str, Any]) -> dict[str, Any] | str | None:
    """The person's square crop, else the photo given as a URL (profiles before images)."""
    square = ((profile.get("image") or {}).get("ratios") or {}).get("1:1")
    if square:
        return _image_object(square["src"], square["width"], square["height"])
    return profile["photo_url"]


def _organization(disclosed: dict[str, Any] | None) -> dict[str, Any] | None:
    """A disclosed sponsor or funder, described where it is named: it has no page here."""
    if not disclosed:
        return None
    return {"@type": "Organization", "name": disclosed["name"], "url": disclosed.get("url")}


def _person(profile: dict[str, Any], pages: _Pages) -> dict[str, Any]:
    url = pages.url("person", profile["slug"])
    return {
        "@type": "Person",
        "@id": pages.person_id(profile["slug"]),
        "name": profile["name"],
        "honorificPrefix": profile["honorific_prefix"],
        "honorificSuffix": profile["honorific_suffix"],
        "jobTitle": profile["job_title"],
        "image": _person_image(profile),
        "url": url,
        # Registries and profiles elsewhere that identify the person (ORCID, NPI, ...).
        "sameAs": [
            link["url"] for link in profile["profile_links"] if link["url"] not in (None, url)
        ],
        "knowsAbout": profile["specialties"],
        "hasCredential": [_credential(item) for item in profile["credentials"]],
    }


def _credential(item: dict[str, Any]) -> dict[str, Any]:
    # Only what EducationalOccupationalCredential defines (with Credential, CreativeWork
    # and Thing): it has no validFrom, so the start of validity is left out; `expires`
    # (from CreativeWork) carries the end.
    return {
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": CREDENTIAL_CATEGORIES.get(item["kind"], item["kind"]),
        "name": item["name"],
        "recognizedBy": {"@type": "Organization", "name": item["issuer"]}
        if item["issuer"]
        else None,
        "validIn": {"@type": "AdministrativeArea", "name": item["jurisdiction"]}
        if item["jurisdiction"]
        else None,
        "identifier": item["number"],
        "expires": item["valid_until"],
    }


def _topic(topic: Topic, pages: _Pages) -> dict[str, Any]:
    return {
        "@type": condition_type(topic.codes),
        "@id": pages.topic_id(topic.slug),
        "name": pages.topic_name(topic),
        "description": pages.topic_description(topic),
        "url": pages.url("topic", topic.slug),
        "relevantSpecialty": _specialty_iri(topic_specialty(topic)),
        "code": [
            {
                "@type": "MedicalCode",
                "codeValue": item.code,
                "codingSystem": CODING_SYSTEMS[item.system],
                "name": item.display,
            }
            for item in topic.ordered_codes()
        ],
    }


def _breadcrumb(
    topics: list[Topic], title: str, own: str, canonical: str, pages: _Pages
) -> dict[str, Any]:
    """From the root of the first topic's ancestry down to the article itself (at its
    canonical page, as the page's `url`)."""
    trail: list[tuple[str, str]] = []
    topic: Topic | None = topics[0] if topics else None
    seen: set[Any] = set()
    # A trashed ancestor has no page to link to, so the trail starts below it.
    while topic is not None and topic.deleted_at is None and topic.id not in seen:
        seen.add(topic.id)
        trail.insert(0, (pages.topic_name(topic), pages.url("topic", topic.slug)))
        topic = topic.parent
    trail.append((title, canonical))
    return {
        "@type": "BreadcrumbList",
        "@id": f"{own}#breadcrumb",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": url}
            for position, (name, url) in enumerate(trail, start=1)
        ],
    }


def _citation(item: dict[str, Any]) -> dict[str, Any]:
    """A cited source. A journal article is a ScholarlyArticle that is part of its journal
    (a Periodical); `publisher` names the organisation behind a source (a web page's
    owner, a report's press), never a journal."""
    doi, pmid, url = item["doi"], item["pmid"], item["url"]
    periodical = item.get("periodical")
    resolvers = [
        f"https://doi.org/{quote(doi, safe='/();:')}" if doi else None,
        f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else None,
    ]
    return {
        "@type": "ScholarlyArticle" if periodical else "CreativeWork",
        "name": item["title"],
        # The authors are one free-text line ("Alam M, Arndt KA, et al."), not people.
        "creditText": item["authors"],
        "publisher": {"@type": "Organization", "name": item["publisher"]}
        if item["publisher"]
        else None,
        "isPartOf": {"@type": "Periodical", "name": periodical} if periodical else None,
        "datePublished": str(item["year"]) if item["year"] else None,
        "url": url,
        "identifier": [
            {"@type": "PropertyValue", "propertyID": scheme, "value": value}
            for scheme, value in (("DOI", doi), ("PMID", pmid))
            if value
        ],
        "sameAs": [link for link in resolvers if link and link != url],
    }


def _correction(item: dict[str, Any]) -> dict[str, Any]:
    return {"@type": "CorrectionComment", "text": item["note"], "datePublished": item["date"]}


def _question(faq: dict[str, Any], own: str) -> dict[str, Any]:
    return {
        "@type": "Question",
        "@id": f"{own}#faq-{faq['id']}",
        "name": faq["question"],
        "text": faq["question"],
        "acceptedAnswer": {"@type": "Answer", "text": faq["answer_html"]},
    }


def _compact(value: Any) -> Any:
    """The value without nulls, empty strings or empty lists and objects, at any depth."""
    if isinstance(value, dict):
        items = {key: _compact(item) for key, item in value.items()}
        return {key: item for key, item in items.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [item for item in map(_compact, value) if item not in (None, "", [], {})]
    return value


# -- serving -------------------------------------------------------------------------------

_KEY = '"structured_data":'
_DECODER = json.JSONDecoder()


def script_safe(data: Any) -> str:
    """JSON text that can be pasted into a `<script type="application/ld+json">` element."""
    return _escape_markup(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _escape_markup(text: str) -> str:
    # `<`, `>` and `&` can only occur inside JSON strings, where their \u escapes mean the
    # same: so no `</script>` or `<!--` in a title or an answer can end the element early.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def etag(document_etag: str) -> str:
    """The JSON-LD's strong ETag, derived from its article document's.

    The served text is a function of the stored document (which embeds it) and of this
    module's serialization, so the ETag is known from the document's ETag alone and a
    revalidation answers 304 without reading the body.
    """
    return etag_for(f"jsonld/{SERIALIZATION_VERSION}:{document_etag}")


def published_etag(slug: str, locale: str | None = None) -> str | None:
    document_etag = delivery.get_etag("article", slug, locale)
    return etag(document_etag) if document_etag else None


def published(slug: str, locale: str | None = None) -> StoredDocument | None:
    """The JSON-LD rendered when the article was published, or None if no article has
    this slug now in `locale` (default: the site's default locale)."""
    document = delivery.get_document("article", slug=slug, locale=locale)
    if document is None:
        return None
    text = _stored_text(document.body)
    if text is None:
        # A document stored before JSON-LD was rendered: it gains it at its next render.
        raise NotFound("This article's structured data has not been rendered yet.")
    return StoredDocument(body=_escape_markup(text), etag=etag(document.etag))


def _stored_text(body: str) -> str | None:
    """The JSON text of the stored article's `structured_data`, cut out of its body.

    Only that value is parsed (to find its end), not the whole article: about a quarter
    of the cost of loading the seeded article and dumping the value again. In JSON text
    an unescaped `"` only ever bounds a string, so `"structured_data":` is that key, and
    nothing else in an article document has a key of that name.
    """
    start = body.find(_KEY)
    if start < 0:
        return None
    start += len(_KEY)
    _, end = _DECODER.raw_decode(body, start)
    return body[start:end]
