"""GET /v1/infobutton: an HL7 Infobutton knowledge request in, an Atom feed (or its JSON) out."""

from __future__ import annotations

from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SITE = "https://www.example-health.org"
ICD10CM = "2.16.840.1.113883.6.90"
SNOMED = "2.16.840.1.113883.6.96"
MESH = "2.16.840.1.113883.6.177"


def _url(**parameters: str) -> str:
    return "/v1/infobutton?" + urlencode(
        {name.replace("__", "."): value for name, value in parameters.items()}
    )


def request(client: FlaskClient, **parameters: str):
    response = client.get(_url(**parameters))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def atom(client: FlaskClient, **parameters: str) -> ElementTree.Element:
    response = request(client, **parameters)
    assert response.content_type == "text/xml; charset=utf-8"
    return ElementTree.fromstring(response.data)


def entries(feed: ElementTree.Element) -> list[dict[str, str]]:
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "href": entry.find(f"{ATOM}link").get("href"),
            "summary": entry.findtext(f"{ATOM}summary"),
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def test_an_icd10cm_code_answers_an_atom_feed_of_public_pages(client):
    feed = atom(client, mainSearchCriteria__v__c="R51.9", mainSearchCriteria__v__cs=ICD10CM)

    assert feed.tag == f"{ATOM}feed"
    assert feed.get(XML_LANG) == "en"
    # Atom 1.0 requires these of a feed and of each entry (RFC 4287 4.1.1, 4.1.2).
    for name in ("id", "title", "updated"):
        assert feed.findtext(f"{ATOM}{name}")
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    categories = {c.get("scheme"): c.get("term") for c in feed.findall(f"{ATOM}category")}
    assert categories["mainSearchCriteria.v.c"] == "R51.9"
    assert categories["mainSearchCriteria.v.cs"] == ICD10CM
    items = entries(feed)
    assert items[0]["title"] == "Headache"
    assert items[0]["href"] == f"{SITE}/topics/headache"
    assert "head pain" in items[0]["summary"]
    assert f"{SITE}/articles/headache-after-botox" in {item["href"] for item in items}
    assert all(item["href"].startswith(SITE) for item in items)
    for entry in feed.findall(f"{ATOM}entry"):
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")


def test_json_has_medlineplus_connects_shape(client):
    response = request(
        client,
        mainSearchCriteria__v__c="H92.01",
        mainSearchCriteria__v__cs=ICD10CM,
        knowledgeResponseType="application/json",
    )

    assert response.content_type == "application/json; charset=utf-8"
    feed = response.get_json()["feed"]
    assert feed["title"]["_value"]
    assert {"scheme": "mainSearchCriteria.v.c", "term": "H92.01"} in feed["category"]
    first = feed["entry"][0]
    assert first["title"]["_value"] == "Ear pain"
    assert first["link"][0]["href"] == f"{SITE}/topics/ear-pain"
    assert first["link"][0]["rel"] == "alternate"
    assert "earache" in first["summary"]["_value"]


@pytest.mark.parametrize(
    ("code", "system", "title"),
    [
        ("25064002", SNOMED, "Headache"),
        ("D013705", MESH, "Temporomandibular disorders (TMD)"),
        ("k74.60", ICD10CM, "Liver disease"),
    ],
)
def test_snomed_ct_mesh_and_icd10cm_oids_are_understood(client, code, system, title):
    feed = atom(client, mainSearchCriteria__v__c=code, mainSearchCriteria__v__cs=system)

    assert entries(feed)[0]["title"] == title


def test_atom_media_type_may_be_asked_for_by_name(client):
    response = request(
        client,
        mainSearchCriteria__v__c="R51.9",
        mainSearchCriteria__v__cs=ICD10CM,
        knowledgeResponseType="application/atom+xml",
    )

    assert response.content_type == "application/atom+xml; charset=utf-8"
    assert ElementTree.fromstring(response.data).tag == f"{ATOM}feed"


@pytest.mark.parametrize(
    ("parameters", "title"),
    [
        ({"mainSearchCriteria.v.dn": "Earache"}, "Ear pain"),
        ({"mainSearchCriteria.v.ot": "tmj"}, "Temporomandibular disorders (TMD)"),
        # A code system we do not carry: the display name is looked up instead.
        (
            {
                "mainSearchCriteria.v.c": "388.70",
                "mainSearchCriteria.v.cs": "2.16.840.1.113883.6.103",
                "mainSearchCriteria.v.dn": "Otalgia",
            },
            "Ear pain",
        ),
    ],
)
def test_free_text_is_looked_up_as_a_symptom(client, parameters, title):
    response = client.get("/v1/infobutton?" + urlencode(parameters))

    assert response.status_code == 200
    assert entries(ElementTree.fromstring(response.data))[0]["title"] == title


@pytest.mark.parametrize(
    "parameters",
    [
        # Languages the site does not publish in (CMS_LOCALES is en, es).
        {"informationRecipient.languageCode.c": "fr"},
        {"informationRecipient.languageCode.c": "fra"},
        {"informationRecipient.languageCode.c": "sp"},
        {"informationRecipient": "PAYOR"},
        {"mainSearchCriteria.v.cs": "2.16.840.1.113883.6.103"},  # ICD-9-CM: not carried
        {"mainSearchCriteria.v.c": "Z99.89"},
        {"mainSearchCriteria.v.c": "headache"},  # not written as ICD-10-CM writes codes
    ],
)
def test_what_there_is_no_content_for_is_an_empty_feed(client, parameters):
    query = {"mainSearchCriteria.v.c": "R51.9", "mainSearchCriteria.v.cs": ICD10CM, **parameters}
    response = client.get("/v1/infobutton?" + urlencode(query))

    assert response.status_code == 200
    feed = ElementTree.fromstring(response.data)
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated")


@pytest.mark.parametrize(
    "parameters",
    [
        {"informationRecipient": "PROV"},
        {"informationRecipient": "PAT", "informationRecipient.languageCode.c": "en-US"},
        {"informationRecipient.languageCode.c": "eng"},
    ],
)
def test_providers_and_english_variants_get_the_patient_content(client, parameters):
    query = {"mainSearchCriteria.v.c": "R51.9", "mainSearchCriteria.v.cs": ICD10CM, **parameters}
    response = client.get("/v1/infobutton?" + urlencode(query))

    assert entries(ElementTree.fromstring(response.data))[0]["title"] == "Headache"


def test_unknown_context_parameters_are_ignored(client):
    plain = request(client, mainSearchCriteria__v__c="R51.9", mainSearchCriteria__v__cs=ICD10CM)
    with_context = request(
        client,
        mainSearchCriteria__v__c="R51.9",
        mainSearchCriteria__v__cs=ICD10CM,
        patientPerson__administrativeGenderCode__c="F",
        age__v__v="35",
        age__v__u="a",
        taskContext__c__c="PROBLISTREV",
        performer="PROV",
    )

    assert with_context.data == plain.data
    assert with_context.headers["ETag"] == plain.headers["ETag"]


def test_it_is_cacheable_and_revalidates(client):
    first = request(client, mainSearchCriteria__v__c="R51.9", mainSearchCriteria__v__cs=ICD10CM)
    again = client.get(
        _url(mainSearchCriteria__v__c="R51.9", mainSearchCriteria__v__cs=ICD10CM),
        headers={"If-None-Match": first.headers["ETag"]},
    )

    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert again.status_code == 304
    assert again.data == b""


def test_it_is_rate_limited(client):
    response = request(client, mainSearchCriteria__v__dn="Headache")

    assert int(response.headers["X-RateLimit-Limit"]) > 0


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "mainSearchCriteria.v.c"),
        ("informationRecipient=PAT", "mainSearchCriteria.v.c"),
        (
            "mainSearchCriteria.v.dn=headache&knowledgeResponseType=text/html",
            "knowledgeResponseType",
        ),
        ("mainSearchCriteria.v.dn=head%00ache", "mainSearchCriteria.v.dn"),
        ("mainSearchCriteria.v.dn=a&mainSearchCriteria.v.dn=b", "mainSearchCriteria.v.dn"),
        ("mainSearchCriteria.v.c=" + "R" * 100, "mainSearchCriteria.v.c"),
    ],
)
def test_a_request_it_cannot_read_is_a_problem(client, query, parameter):
    response = client.get(f"/v1/infobutton?{query}")

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert parameter in response.get_json()["errors"]["query"]


def test_the_document_shows_both_response_types(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/v1/infobutton"]["get"]
    content = operation["responses"]["200"]["content"]

    assert set(content) == {"text/xml", "application/atom+xml", "application/json"}
    assert ElementTree.fromstring(content["text/xml"]["example"]).tag == f"{ATOM}feed"
    assert content["application/json"]["example"]["feed"]["entry"]
    assert "429" in operation["responses"]
    assert "ignored" in operation["description"]


@pytest.mark.parametrize("language", ["es", "spa", "es-MX", "es_mx", "ES"])
def test_the_recipients_language_chooses_the_locale(client, language):
    response = request(
        client,
        mainSearchCriteria__v__c="R51.9",
        mainSearchCriteria__v__cs=ICD10CM,
        informationRecipient__languageCode__c=language,
    )

    assert response.headers["Content-Language"] == "es"
    feed = ElementTree.fromstring(response.data)
    assert feed.get(XML_LANG) == "es"
    assert feed.findtext(f"{ATOM}subtitle") == "Resultados para ICD-10-CM R51.9"
    categories = {c.get("scheme"): c.get("term") for c in feed.findall(f"{ATOM}category")}
    assert categories["informationRecipient.languageCode.c"] == language
    items = entries(feed)
    # The seeds translate the headache topic and an article on it: those, in Spanish only.
    assert items[0] == {
        "title": "Dolor de cabeza",
        "href": f"{SITE}/es/topics/headache",
        "summary": items[0]["summary"],
    }
    assert "También llamado: cefalea" in items[0]["summary"]
    assert all(item["href"].startswith(f"{SITE}/es/") for item in items)
    assert f"{SITE}/es/articles/dolor-de-cabeza-despues-del-botox" in {
        item["href"] for item in items
    }
    assert {entry.get(XML_LANG) for entry in feed.findall(f"{ATOM}entry")} == {"es"}


def test_the_apis_locale_parameter_chooses_it_too(client):
    response = request(
        client,
        mainSearchCriteria__v__c="R51.9",
        mainSearchCriteria__v__cs=ICD10CM,
        knowledgeResponseType="application/json",
        locale="es",
    )

    assert response.headers["Content-Language"] == "es"
    feed = response.get_json()["feed"]
    assert feed["lang"] == "es"
    assert {entry["lang"] for entry in feed["entry"]} == {"es"}
    assert feed["entry"][0]["title"]["_value"] == "Dolor de cabeza"
    assert {"scheme": "informationRecipient.languageCode.c", "term": "es"} in feed["category"]
    assert feed["id"]["_value"].endswith("&locale=es")


def test_a_locale_that_disagrees_with_the_language_gets_an_empty_feed(client):
    response = request(
        client,
        mainSearchCriteria__v__c="R51.9",
        mainSearchCriteria__v__cs=ICD10CM,
        informationRecipient__languageCode__c="en",
        locale="es",
    )

    feed = ElementTree.fromstring(response.data)
    assert feed.findall(f"{ATOM}entry") == []
    assert response.headers["Content-Language"] == "es"
    agreeing = request(
        client,
        mainSearchCriteria__v__c="R51.9",
        mainSearchCriteria__v__cs=ICD10CM,
        informationRecipient__languageCode__c="es-ES",
        locale="es",
    )
    assert entries(ElementTree.fromstring(agreeing.data))


def test_english_is_still_the_default_and_says_so(client):
    plain = request(client, mainSearchCriteria__v__c="R51.9", mainSearchCriteria__v__cs=ICD10CM)
    english = request(
        client, mainSearchCriteria__v__c="R51.9", mainSearchCriteria__v__cs=ICD10CM, locale="en"
    )

    assert plain.headers["Content-Language"] == "en"
    assert ElementTree.fromstring(plain.data).findtext(f"{ATOM}subtitle") == (
        "Results for ICD-10-CM R51.9"
    )
    assert entries(ElementTree.fromstring(english.data)) == entries(
        ElementTree.fromstring(plain.data)
    )
    assert not any("/es/" in item["href"] for item in entries(ElementTree.fromstring(plain.data)))
    again = client.get(
        _url(mainSearchCriteria__v__c="R51.9", mainSearchCriteria__v__cs=ICD10CM),
        headers={"If-None-Match": plain.headers["ETag"]},
    )
    assert again.status_code == 304 and again.headers["Content-Language"] == "en"


@pytest.mark.parametrize("locale", ["fr", "spanish", ""])
def test_a_locale_the_site_does_not_publish_in_is_a_problem(client, locale):
    response = client.get(
        _url(mainSearchCriteria__v__c="R51.9", mainSearchCriteria__v__cs=ICD10CM, locale=locale)
    )

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
