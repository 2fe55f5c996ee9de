"""schema.org JSON-LD of published articles: what it says, and only words schema.org defines."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, Faq, MedicalCode, Person, Topic
from cms_api.services.delivery import documents as delivery
from cms_api.services.publishing import jsonld
from cms_api.services.publishing.articles import publish_article, refresh_articles

SLUG = "headache-after-botox"
BASE = "https://www.example-health.org"
CANONICAL = f"{BASE}/articles/{SLUG}"

# schema.org (version 30) types this API emits, each with its parent types and the
# properties defined directly on it; superseded properties are left out. A type allows
# its own properties and every ancestor's.
SCHEMA_ORG: dict[str, tuple[tuple[str, ...], str]] = {
    "Thing": (
        (),
        "additionalType alternateName description disambiguatingDescription identifier "
        "image mainEntityOfPage name owner potentialAction sameAs subjectOf url",
    ),
    "CreativeWork": (
        ("Thing",),
        "about abstract accessMode accessModeSufficient accessibilityAPI "
        "accessibilityControl accessibilityFeature accessibilityHazard accessibilitySummary "
        "accountablePerson acquireLicensePage aggregateRating alternativeHeadline archivedAt "
        "assesses associatedMedia audience audio author award character citation comment "
        "commentCount conditionsOfAccess contentLocation contentRating contentReferenceTime "
        "contributor copyrightHolder copyrightNotice copyrightYear correction "
        "countryOfOrigin creativeWorkStatus creator creditText dateCreated dateModified "
        "datePublished digitalSourceType discussionUrl displayLocation editEIDR editor "
        "educationalAlignment educationalLevel educationalUse encoding encodingFormat "
        "exampleOfWork expires funder funding genre hasPart headline inLanguage "
        "interactionStatistic interactivityType interpretedAsClaim isAccessibleForFree "
        "isBasedOn isFamilyFriendly isPartOf keywords learningResourceType license "
        "locationCreated mainEntity maintainer material materialExtent mentions offers "
        "pattern position producer provider publication publisher publisherImprint "
        "publishingPrinciples recordedAt releasedEvent review schemaVersion "
        "sdDatePublished sdLicense sdPublisher size sourceOrganization spatial "
        "spatialCoverage sponsor teaches temporal temporalCoverage text thumbnail "
        "thumbnailUrl timeRequired translationOfWork translator typicalAgeRange usageInfo "
        "version video wordCount workExample workTranslation",
    ),
    "WebPage": (
        ("CreativeWork",),
        "breadcrumb lastReviewed mainContentOfPage primaryImageOfPage relatedLink "
        "reviewedBy significantLink speakable specialty",
    ),
    "MedicalWebPage": (("WebPage",), "medicalAudience"),
    "WebSite": (("CreativeWork",), "issn"),
    "Article": (
        ("CreativeWork",),
        "articleBody articleSection backstory pageEnd pageStart pagination speakable wordCount",
    ),
    "ScholarlyArticle": (("Article",), ""),
    "Series": (("Intangible",), ""),
    "CreativeWorkSeries": (("CreativeWork", "Series"), "endDate issn startDate"),
    "Periodical": (("CreativeWorkSeries",), ""),
    "Comment": (("CreativeWork",), "downvoteCount parentItem sharedContent upvoteCount"),
    "CorrectionComment": (("Comment",), ""),
    "Question": (
        ("Comment",),
        "acceptedAnswer answerCount eduQuestionType parentItem suggestedAnswer",
    ),
    "Answer": (("Comment",), "answerExplanation parentItem"),
    "Credential": (("CreativeWork",), "credentialCategory recognizedBy validFor validIn"),
    "EducationalOccupationalCredential": (
        ("Credential",),
        "competencyRequired educationalLevel",
    ),
    "MediaObject": (
        ("CreativeWork",),
        "associatedArticle bitrate contentSize contentUrl duration embedUrl "
        "encodesCreativeWork encodingFormat endTime height ineligibleRegion "
        "interpretedAsClaim playerType productionCompany regionsAllowed "
        "requiresSubscription sha256 startTime uploadDate width",
    ),
    "ImageObject": (
        ("MediaObject",),
        "caption embeddedTextCaption exifData representativeOfPage",
    ),
    "Organization": (
        ("Thing",),
        "acceptedPaymentMethod actionableFeedbackPolicy address agentInteractionStatistic "
        "aggregateRating alumni areaServed authorizedRepresentative award brand "
        "companyRegistration contactPoint correctionsPolicy department dissolutionDate "
        "diversityPolicy diversityStaffingReport duns email employee ethicsPolicy event "
        "faxNumber founder foundingDate foundingLocation funder funding "
        "globalLocationNumber hasCertification hasCredential hasGS1DigitalLink "
        "hasMemberProgram hasMerchantReturnPolicy hasOfferCatalog hasPOS hasShippingService "
        "interactionStatistic isicV4 iso6523Code keywords knowsAbout knowsLanguage "
        "legalAddress legalName legalRepresentative leiCode location logo makesOffer "
        "member memberOf naics nonprofitStatus numberOfEmployees ownershipFundingInfo owns "
        "parentOrganization publishingPrinciples review seeks skills slogan sponsor "
        "subOrganization taxID telephone unnamedSourcesPolicy vatID",
    ),
    "Person": (
        ("Thing",),
        "additionalName address affiliation agentInteractionStatistic alumniOf award "
        "birthDate birthPlace brand callSign children colleague contactPoint deathDate "
        "deathPlace duns email familyName faxNumber follows funder funding gender givenName "
        "globalLocationNumber hasCertification hasCredential hasOccupation hasOfferCatalog "
        "hasPOS height homeLocation honorificPrefix honorificSuffix interactionStatistic "
        "isicV4 jobTitle knows knowsAbout knowsLanguage lifeEvent makesOffer memberOf naics "
        "nationality netWorth owns parent performerIn pronouns publishingPrinciples "
        "relatedTo seeks sibling skills sponsor spouse taxID telephone vatID weight "
        "workLocation worksFor",
    ),
    "Place": (
        ("Thing",),
        "additionalProperty address aggregateRating amenityFeature branchCode "
        "containedInPlace containsPlace event faxNumber geo geoContains geoCoveredBy "
        "geoCovers geoCrosses geoDisjoint geoEquals geoIntersects geoOverlaps geoTouches "
        "geoWithin globalLocationNumber hasCertification hasDriveThroughService "
        "hasGS1DigitalLink hasMap isAccessibleForFree isicV4 keywords latitude logo "
        "longitude maximumAttendeeCapacity openingHoursSpecification photo publicAccess "
        "review slogan smokingAllowed specialOpeningHoursSpecification telephone "
        "tourBookingPage",
    ),
    "AdministrativeArea": (("Place",), ""),
    "MedicalEntity": (
        ("Thing",),
        "code funding guideline legalStatus medicineSystem recognizingAuthority "
        "relevantSpecialty study",
    ),
    "MedicalCondition": (
        ("MedicalEntity",),
        "associatedAnatomy cause differentialDiagnosis drug epidemiology expectedPrognosis "
        "naturalProgression pathophysiology possibleComplication possibleTreatment "
        "primaryPrevention riskFactor secondaryPrevention signOrSymptom stage status "
        "typicalTest",
    ),
    "MedicalSignOrSymptom": (("MedicalCondition",), "possibleTreatment"),
    "MedicalIntangible": (("MedicalEntity",), ""),
    "Intangible": (("Thing",), ""),
    "DefinedTerm": (("Intangible",), "about inDefinedTermSet termCode"),
    "CategoryCode": (("DefinedTerm",), "codeValue inCodeSet"),
    "MedicalCode": (("CategoryCode", "MedicalIntangible"), "codeValue codingSystem"),
    "Audience": (("Intangible",), "audienceType geographicArea"),
    "PeopleAudience": (
        ("Audience",),
        "healthCondition requiredGender requiredMaxAge requiredMinAge suggestedAge "
        "suggestedGender suggestedMaxAge suggestedMeasurement suggestedMinAge",
    ),
    "MedicalAudience": (("Audience", "PeopleAudience"), ""),
    "Patient": (("MedicalAudience", "Person"), "diagnosis drug healthCondition"),
    "ItemList": (
        ("Intangible",),
        "aggregateElement itemListElement itemListOrder numberOfItems",
    ),
    "BreadcrumbList": (("ItemList",), ""),
    "ListItem": (("Intangible",), "item nextItem position previousItem"),
    "StructuredValue": (("Intangible",), ""),
    "PropertyValue": (
        ("StructuredValue",),
        "maxValue measurementMethod measurementTechnique minValue propertyID unitCode "
        "unitText value valueGroup valueReference",
    ),
}


def allowed_properties(type_name: str) -> set[str]:
    parents, own = SCHEMA_ORG[type_name]
    properties = set(own.split())
    for parent in parents:
        properties |= allowed_properties(parent)
    return properties


def nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in the JSON-LD, at any depth."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from nodes(item)


def graph_of(slug: str, locale: str | None = None) -> dict[str, Any]:
    stored = jsonld.published(slug, locale)
    assert stored is not None
    return json.loads(stored.body)


# The properties whose references name another page's work (a translation's, or the
# original's), described in that page's graph, not this one.
OTHER_PAGES = ("workTranslation", "translationOfWork")


def references(graph: dict[str, Any]) -> set[str]:
    """The node ids the graph refers to, other pages' works left out."""
    local = [
        {name: value for name, value in node.items() if name not in OTHER_PAGES}
        for node in graph["@graph"]
    ]
    return {node["@id"] for node in nodes(local) if set(node) == {"@id"}}


def by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["@id"]: node for node in graph["@graph"]}


def one(graph: dict[str, Any], type_name: str) -> dict[str, Any]:
    [node] = [node for node in graph["@graph"] if node["@type"] == type_name]
    return node


def published_slugs() -> list[tuple[str, str]]:
    """(slug, locale) of every published article, in every locale."""
    return [
        (slug, locale)
        for slug, locale in db.session.execute(
            select(Article.slug, Article.locale).where(
                Article.live_revision.is_not(None), Article.deleted_at.is_(None)
            )
        )
    ]


def test_seeded_article_names_its_author_reviewer_review_date_codes_and_faqs(app):
    with app.app_context():
        graph = graph_of(SLUG)
        faqs = json.loads(delivery.get_document("article", slug=SLUG).body)["faqs"]
    nodes_by_id = by_id(graph)
    page, article = one(graph, "MedicalWebPage"), one(graph, "Article")

    assert graph["@context"] == "https://schema.org"
    assert page["url"] == CANONICAL and article["mainEntityOfPage"] == {"@id": page["@id"]}
    assert page["mainEntity"] == {"@id": article["@id"]}
    assert article["headline"] == "Headache After Botox: Causes, Prevention and Treatment"
    assert article["datePublished"] == "2026-10-05T09:00:00Z"
    assert article["dateModified"] >= article["datePublished"]

    [author] = [nodes_by_id[ref["@id"]] for ref in article["author"]]
    assert (author["@type"], author["name"], author["honorificPrefix"]) == (
        "Person",
        "Miriam Castellanos-Reed",
        "Dr.",
    )
    assert (author["honorificSuffix"], author["jobTitle"]) == ("MD", "Neurologist")
    assert "https://orcid.org/0000-0002-9473-8150" in author["sameAs"]
    assert author["knowsAbout"] == ["Neurology", "Headache medicine"]

    assert page["lastReviewed"] == "2026-10-02"
    [reviewer] = [nodes_by_id[ref["@id"]] for ref in page["reviewedBy"]]
    assert reviewer["name"] == "Tobias Lindqvist" and reviewer["jobTitle"] == "Dermatologist"
    board = next(c for c in reviewer["hasCredential"] if c["name"].startswith("Board"))
    assert board == {
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": "board certification",
        "name": "Board Certification in Dermatology",
        "recognizedBy": {"@type": "Organization", "name": "American Board of Dermatology"},
        "identifier": "D-FX-20917",
        "expires": "2027-12-31",
    }
    license_ = next(c for c in reviewer["hasCredential"] if c["credentialCategory"] == "license")
    assert license_["validIn"] == {"@type": "AdministrativeArea", "name": "Minnesota, US"}
    assert {c["credentialCategory"] for c in reviewer["hasCredential"]} == {
        "degree",
        "license",
        "board certification",
    }

    headache = nodes_by_id[page["about"][0]["@id"]]
    assert (headache["@type"], headache["name"]) == ("MedicalSignOrSymptom", "Headache")
    assert {(code["codingSystem"], code["codeValue"]) for code in headache["code"]} == {
        ("ICD-10-CM", "R51.9"),
        ("SNOMED-CT", "25064002"),
        ("MeSH", "D006261"),
    }
    assert all(code["@type"] == "MedicalCode" for code in headache["code"])

    questions = article["hasPart"]
    assert [q["name"] for q in questions] == [faq["question"] for faq in faqs]
    assert len(questions) == 6
    assert all(q["@type"] == "Question" and q["text"] == q["name"] for q in questions)
    assert [q["acceptedAnswer"] for q in questions] == [
        {"@type": "Answer", "text": faq["answer_html"]} for faq in faqs
    ]


def test_page_has_specialties_audience_breadcrumb_related_links_and_publisher(app):
    with app.app_context():
        graph = graph_of(SLUG)
    page, article = one(graph, "MedicalWebPage"), one(graph, "Article")
    publisher = one(graph, "Organization")

    # From its topics: headache (Neurologic) and cosmetic injectables (Dermatology).
    assert page["specialty"] == [
        "https://schema.org/Neurologic",
        "https://schema.org/Dermatology",
    ]
    assert page["medicalAudience"] == {"@type": "Patient"}
    crumbs = page["breadcrumb"]["itemListElement"]
    assert page["breadcrumb"]["@type"] == "BreadcrumbList"
    assert [(c["position"], c["name"], c["item"]) for c in crumbs] == [
        (1, "Neurological symptoms", f"{BASE}/topics/neurological-symptoms"),
        (2, "Headache", f"{BASE}/topics/headache"),
        (3, article["headline"], CANONICAL),
    ]
    assert f"{BASE}/articles/tmj-headache" in page["relatedLink"] and len(page["relatedLink"]) == 6
    assert page["publisher"] == article["publisher"] == {"@id": publisher["@id"]}
    assert publisher["name"] == "Example Health"
    # The seeded logo: the media library's `publisher-logo` image, with its size.
    assert publisher["logo"]["@type"] == "ImageObject" and publisher["logo"]["width"] == 256
    cochrane = next(c for c in article["citation"] if "Cochrane" in c["isPartOf"]["name"])
    assert cochrane["@type"] == "ScholarlyArticle" and "publisher" not in cochrane
    assert cochrane["datePublished"] == "2018"
    assert {"@type": "PropertyValue", "propertyID": "PMID", "value": "29939406"} in cochrane[
        "identifier"
    ]
    assert cochrane["sameAs"] == ["https://pubmed.ncbi.nlm.nih.gov/29939406/"]


def test_every_property_of_every_typed_node_is_one_schema_org_defines_for_that_type(app):
    with app.app_context():
        graphs = {key: graph_of(*key) for key in published_slugs()}
    assert len(graphs) >= 7

    undefined = {
        f"{slug}: {node['@type']}.{name}"
        for slug, graph in graphs.items()
        for node in nodes(graph["@graph"])
        if "@type" in node
        for name in node
        if not name.startswith("@") and name not in allowed_properties(node["@type"])
    }
    untyped = [
        node for graph in graphs.values() for node in nodes(graph["@graph"]) if "@type" not in node
    ]

    assert undefined == set()
    # An object without a type is only ever a reference to a node described elsewhere.
    assert all(set(node) == {"@id"} for node in untyped)


def test_people_are_described_once_and_every_reference_resolves(app):
    with app.app_context():
        graph = graph_of(SLUG)
    described = [node["@id"] for node in graph["@graph"]]

    assert len(described) == len(set(described))
    assert references(graph) <= set(described)
    assert [node["name"] for node in graph["@graph"] if node["@type"] == "Person"] == [
        "Miriam Castellanos-Reed",
        "Tobias Lindqvist",
    ]


def test_no_value_is_null_or_empty(app):
    with app.app_context():
        graphs = [graph_of(*key) for key in published_slugs()]

    empty = [
        (node.get("@type"), name)
        for graph in graphs
        for node in nodes(graph)
        for name, value in node.items()
        if value in (None, "", [], {})
    ]
    assert empty == []


def test_topic_type_follows_the_icd10cm_chapter():
    def codes(*pairs: tuple[str, str]) -> list[MedicalCode]:
        return [MedicalCode(system=system, code=code, display=code) for system, code in pairs]

    # Chapter R holds symptoms and signs; other chapters, conditions.
    assert jsonld.condition_type(codes(("icd10cm", "R51.9"), ("mesh", "D006261"))) == (
        "MedicalSignOrSymptom"
    )
    assert jsonld.condition_type(codes(("icd10cm", "M26.60"))) == "MedicalCondition"
    assert jsonld.condition_type(codes(("icd10cm", "R21"), ("icd10cm", "L27.0"))) == (
        "MedicalCondition"
    )
    # Botulinum toxins (MeSH) is a treatment family, not a condition.
    assert jsonld.condition_type(codes(("mesh", "D001905"))) == "MedicalEntity"
    assert jsonld.condition_type([]) == "MedicalEntity"


def test_specialties_come_from_the_topics_each_inheriting_its_parents_and_are_listed_once():
    neuro = Topic(id=uuid.uuid4(), slug="neuro", name="Neuro", specialty="Neurologic")
    headache = Topic(id=uuid.uuid4(), slug="headache", name="Headache", parent=neuro)
    migraine = Topic(id=uuid.uuid4(), slug="migraine", name="Migraine", parent=headache)
    skin = Topic(id=uuid.uuid4(), slug="skin", name="Skin", specialty="Dermatologic")
    allergies = Topic(id=uuid.uuid4(), slug="allergies", name="Allergies")

    assert jsonld.topic_specialty(migraine) == "Neurologic"
    # A member schema.org has replaced is published as its successor.
    assert jsonld.topic_specialty(skin) == "Dermatology"
    assert jsonld.topic_specialty(allergies) is None
    assert jsonld.specialties([migraine, allergies, skin, headache]) == [
        "https://schema.org/Neurologic",
        "https://schema.org/Dermatology",
    ]


def test_served_text_is_exactly_the_stored_structured_data_made_script_safe(app):
    with app.app_context():
        pairs = [
            (
                jsonld.published(slug, locale),
                delivery.get_document("article", slug=slug, locale=locale),
            )
            for slug, locale in published_slugs()
        ]

    for served, document in pairs:
        assert served is not None and document is not None
        structured_data = json.loads(document.body)["structured_data"]
        assert served.body == jsonld.script_safe(structured_data)
        assert served.etag == jsonld.etag(document.etag) != document.etag


def test_script_safe_text_cannot_close_a_script_element_and_means_the_same():
    data = {"name": "</script><script>alert('x')</script> <!-- & -->"}

    text = jsonld.script_safe(data)

    assert not {"<", ">", "&"} & set(text)
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text) == data


def test_hostile_text_is_published_verbatim_in_the_data_and_escaped_in_the_served_text(app):
    hostile = "</script><script>alert(1)</script> & <!-- more"
    with app.app_context():
        author = db.session.scalars(select(Person).where(Person.slug == "rafael-oyelaran")).one()
        article = Article(
            id=uuid.uuid4(), slug="hostile-jsonld", title=hostile, summary="S", status="draft"
        )
        article.authorships = [ArticleAuthor(person=author)]
        db.session.add(article)
        db.session.add(Faq(article=article, question=hostile, answer="A", status="published"))
        db.session.flush()
        publish_article(article.id)
        stored = jsonld.published("hostile-jsonld")

    assert stored is not None
    assert not {"<", ">", "&"} & set(stored.body)
    graph = json.loads(stored.body)
    assert one(graph, "Article")["headline"] == hostile
    assert one(graph, "Article")["hasPart"][0]["name"] == hostile
    # No SEO canonical: the page's own address on the public site; no topic: no `about`,
    # and the breadcrumb is the article alone.
    page = one(graph, "MedicalWebPage")
    assert page["url"] == f"{BASE}/articles/hostile-jsonld"
    assert "about" not in page
    assert page["breadcrumb"]["itemListElement"] == [
        {"@type": "ListItem", "position": 1, "name": hostile, "item": page["url"]}
    ]


def test_publisher_and_addresses_follow_the_settings(app, monkeypatch: pytest.MonkeyPatch):
    settings = dataclasses.replace(
        app.config["CMS_SETTINGS"],
        public_base_url="https://health.example.net/",
        publisher_name="Example Net Health",
        publisher_logo_url="https://health.example.net/logo.png",
        editorial_policy_url="https://health.example.net/editorial-policy",
    )
    monkeypatch.setitem(app.config, "CMS_SETTINGS", settings)
    with app.app_context():
        article_id = db.session.scalar(select(Article.id).where(Article.slug == SLUG))
        refresh_articles([article_id])
        graph = graph_of(SLUG)

    publisher = one(graph, "Organization")
    assert publisher == {
        "@type": "Organization",
        "@id": "https://health.example.net/#organization",
        "name": "Example Net Health",
        "url": "https://health.example.net/",
        "logo": {"@type": "ImageObject", "url": "https://health.example.net/logo.png"},
        "publishingPrinciples": "https://health.example.net/editorial-policy",
    }
    assert one(graph, "MedicalWebPage")["publishingPrinciples"] == (
        "https://health.example.net/editorial-policy"
    )
    author = by_id(graph)[one(graph, "Article")["author"][0]["@id"]]
    assert author["url"] == "https://health.example.net/people/miriam-castellanos-reed"
