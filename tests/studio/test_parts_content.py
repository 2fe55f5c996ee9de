"""Calls to action, authors, disclosures and sub-sections in the studio, checked in the API."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from cms_api.schemas.admin.articles import CTA_KINDS
from cms_api.studio import article_parts, part_lists
from tests.studio.test_articles import _create, _editor_form
from tests.studio.test_parts import _api_article, _article, _signed_in, _version

SYMPTOM_CHECKER = {
    "kind": "symptom_checker",
    "title": "Not sure what is causing your headache?",
    "body": "Answer a few questions.",
    "button_label": "Check your symptoms",
    "url": "https://www.example-health.org/symptom-checker",
}


def _edit(client: FlaskClient, token: str, article_id: str, op: str, fields: dict[str, str]):
    """The edit form sent back as the browser would, with `fields` and the button `op`."""
    form = {**_editor_form(client, article_id), "csrf_token": token, **fields, "op": op}
    return client.post(f"/studio/articles/{article_id}", data=form)


def test_every_kind_of_call_to_action_has_a_label_and_the_tabs_keep_their_order() -> None:
    assert set(part_lists.KIND_LABELS) == set(CTA_KINDS)
    assert [key for key, _label in article_parts.tabs()] == list(article_parts.ORDER)


def test_calls_to_action_are_added_edited_moved_and_removed(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    article = _article(app)
    path = f"/studio/articles/{article.id}/actions"
    before = _api_article(client, admin_token, article.id)["call_to_actions"]

    added = client.post(
        path, data={**SYMPTOM_CHECKER, "csrf_token": token, "version": _version(client, path)}
    )
    assert added.status_code == 303 and added.headers["Location"] == path
    actions = _api_article(client, admin_token, article.id)["call_to_actions"]
    assert len(actions) == len(before) + 1
    # A blank key is made from the title; a box not ticked is not advertising.
    assert actions[-1]["key"] == "not-sure-what-is-causing-your-headache"
    assert actions[-1]["advertising"] is False and actions[-1]["title"] == SYMPTOM_CHECKER["title"]
    assert "Call to action added." in client.get(path).get_data(as_text=True)

    last = len(actions) - 1
    edited = client.post(
        f"{path}/{last}",
        data={
            **SYMPTOM_CHECKER,
            "key": "sponsored-checker",
            "advertising": "1",
            "advertising_label": "Sponsored",
            "csrf_token": token,
            "version": _version(client, path),
        },
    )
    assert edited.status_code == 303
    shown = _api_article(client, admin_token, article.id)["call_to_actions"][-1]
    assert (shown["key"], shown["advertising"], shown["advertising_label"]) == (
        "sponsored-checker",
        True,
        "Sponsored",
    )

    if last > 0:
        moved = client.post(
            f"{path}/{last}/move",
            data={"direction": "up", "csrf_token": token, "version": _version(client, path)},
        )
        assert moved.status_code == 303
        keys = [a["key"] for a in _api_article(client, admin_token, article.id)["call_to_actions"]]
        assert keys[last - 1] == "sponsored-checker"
        last -= 1

    removed = client.post(
        f"{path}/{last}/remove", data={"csrf_token": token, "version": _version(client, path)}
    )
    assert removed.status_code == 303
    after = _api_article(client, admin_token, article.id)["call_to_actions"]
    assert [a["key"] for a in after] == [a["key"] for a in before]


def test_a_bad_call_to_action_is_refused_with_its_message_and_nothing_is_saved(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    article = _article(app)
    path = f"/studio/articles/{article.id}/actions"
    before = _api_article(client, admin_token, article.id)
    refused = client.post(
        path,
        data={
            **SYMPTOM_CHECKER,
            "kind": "lottery",
            "url": "javascript:alert(1)",
            "csrf_token": token,
            "version": _version(client, path),
        },
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="new-kind-error"' in page and 'id="new-url-error"' in page
    unmarked = client.post(
        path,
        data={
            **SYMPTOM_CHECKER,
            "advertising_label": "Sponsored",  # on a box not marked as advertising
            "csrf_token": token,
            "version": _version(client, path),
        },
    )
    assert unmarked.status_code == 422
    assert "Only a call to action marked as advertising has a label." in unmarked.get_data(
        as_text=True
    )
    after = _api_article(client, admin_token, article.id)
    assert after["call_to_actions"] == before["call_to_actions"]
    assert after["revision_number"] == before["revision_number"]


def test_a_call_to_action_from_an_old_version_is_not_saved(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    article = _article(app)
    path = f"/studio/articles/{article.id}/actions"
    old = _version(client, path)
    client.post(path, data={**SYMPTOM_CHECKER, "csrf_token": token, "version": old})
    count = len(_api_article(client, admin_token, article.id)["call_to_actions"])
    stale = client.post(path, data={**SYMPTOM_CHECKER, "csrf_token": token, "version": old})
    assert stale.status_code == 409
    assert "your change was not saved" in stale.get_data(as_text=True)
    assert len(_api_article(client, admin_token, article.id)["call_to_actions"]) == count


def test_authors_are_saved_in_the_order_ticked_and_unknown_people_refused(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    article_id = _create(client, token, slug="authored-in-the-studio")
    path = f"/studio/articles/{article_id}/credits"
    page = client.get(path).get_data(as_text=True)
    assert "publishing needs one" in page and 'value="rafael-oyelaran"' in page

    def send(*authors: str):
        return client.post(
            f"/studio/articles/{article_id}/authors",
            data={"authors": list(authors), "csrf_token": token, "version": _version(client, path)},
        )

    assert send("rafael-oyelaran").status_code == 303
    # Ticking a second person keeps the first as the lead author, whatever the page order.
    assert send("miriam-castellanos-reed", "rafael-oyelaran").status_code == 303
    shown = _api_article(client, admin_token, article_id)
    assert shown["authors"] == ["rafael-oyelaran", "miriam-castellanos-reed"]
    # The byline's order is changed by moving an author.
    moved = client.post(
        f"/studio/articles/{article_id}/authors/1/move",
        data={"direction": "up", "csrf_token": token, "version": _version(client, path)},
    )
    assert moved.status_code == 303
    assert _api_article(client, admin_token, article_id)["authors"] == [
        "miriam-castellanos-reed",
        "rafael-oyelaran",
    ]
    assert "Authors reordered." in client.get(path).get_data(as_text=True)
    assert send("miriam-castellanos-reed", "rafael-oyelaran").status_code == 303

    refused = send("rafael-oyelaran", "nobody-at-all")
    assert refused.status_code == 422
    assert "Unknown person nobody-at-all." in refused.get_data(as_text=True)
    after = _api_article(client, admin_token, article_id)
    assert after["authors"] == ["miriam-castellanos-reed", "rafael-oyelaran"]


def test_a_viewer_may_not_change_authors(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client, "viewer")
    article = _article(app)
    refused = client.post(
        f"/studio/articles/{article.id}/authors",
        data={"authors": ["rafael-oyelaran"], "csrf_token": token, "version": "1"},
    )
    assert refused.status_code == 403


def test_disclosures_are_saved_whole_and_a_website_needs_a_name(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    article_id = _create(client, token, slug="disclosed-in-the-studio")
    path = f"/studio/articles/{article_id}/credits"
    action = f"/studio/articles/{article_id}/disclosures"
    saved = client.post(
        action,
        data={
            "sponsor-name": "Calder Vale Skin Health Trust",
            "sponsor-url": "https://calder-vale.example.org",
            "funder-name": "",
            "funder-url": "",
            "conflicts_of_interest": "None declared.",
            "csrf_token": token,
            "version": _version(client, path),
        },
    )
    assert saved.status_code == 303
    shown = _api_article(client, admin_token, article_id)["disclosures"]
    assert shown["sponsor"] == {
        "name": "Calder Vale Skin Health Trust",
        "url": "https://calder-vale.example.org",
    }
    assert shown["funder"] is None and shown["conflicts_of_interest"] == "None declared."

    refused = client.post(
        action,
        data={
            "funder-url": "https://funder.example.org",
            "csrf_token": token,
            "version": _version(client, path),
        },
    )
    assert refused.status_code == 422
    assert 'id="d-funder-name-error"' in refused.get_data(as_text=True)
    assert _api_article(client, admin_token, article_id)["disclosures"] == shown


def test_sub_sections_are_added_edited_moved_and_removed_in_the_editor(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    article_id = _create(client, token, slug="nested-in-the-studio")
    path = f"/studio/articles/{article_id}"
    section = {
        "sections-0-key": "causes",
        "sections-0-heading": "Causes",
        "sections-0-body": "Several things.",
    }

    def send(op: str, **fields: str):
        return _edit(client, token, article_id, op, {**section, **fields})

    assert send("save").status_code == 303
    assert send("sub-add:0").status_code == 303
    # The browser sends the whole form back: the first sub-section with the second add.
    first = {
        "sections-0-subsections-0-key": "sub-section-1",
        "sections-0-subsections-0-heading": "New",
    }
    assert send("sub-add:0", **first).status_code == 303
    sections = _api_article(client, admin_token, article_id)["sections"]
    assert [c["key"] for c in sections[0]["subsections"]] == ["sub-section-1", "sub-section-2"]

    children = {
        "sections-0-subsections-0-key": "injection",
        "sections-0-subsections-0-heading": "The injection itself",
        "sections-0-subsections-0-body": "A small *needle*.",
        "sections-0-subsections-1-key": "muscles",
        "sections-0-subsections-1-heading": "Muscle changes",
        "sections-0-subsections-1-body": "Tension shifts.",
    }
    assert send("sub-down:0:0", **children).status_code == 303
    shown = _api_article(client, admin_token, article_id)["sections"][0]["subsections"]
    assert [(c["key"], c["heading"], c["body"]) for c in shown] == [
        ("muscles", "Muscle changes", "Tension shifts."),
        ("injection", "The injection itself", "A small *needle*."),
    ]
    page = client.get(path).get_data(as_text=True)
    assert "Sub-section 1.2: The injection itself" in page
    assert "<em>needle</em>" in page  # its preview, rendered as readers will see it

    remaining = {
        "sections-0-subsections-0-key": "muscles",
        "sections-0-subsections-0-heading": "Muscle changes",
        "sections-0-subsections-1-key": "injection",
        "sections-0-subsections-1-heading": "The injection itself",
    }
    assert send("sub-remove:0:0", **remaining).status_code == 303
    shown = _api_article(client, admin_token, article_id)["sections"][0]["subsections"]
    assert [c["key"] for c in shown] == ["injection"]

    # A sub-section's key the schema refuses is shown by its field, and nothing is lost.
    bad = send(
        "save",
        **{"sections-0-subsections-0-key": "Not A Key", "sections-0-subsections-0-heading": "X"},
    )
    assert bad.status_code == 422
    assert 'id="sections-0-subsections-0-key-error"' in bad.get_data(as_text=True)
    kept = _api_article(client, admin_token, article_id)["sections"][0]["subsections"]
    assert [c["key"] for c in kept] == ["injection"]


def test_a_sub_section_body_previews_as_markdown(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client, "editor")
    previewed = client.post(
        "/studio/articles/preview",
        data={
            "csrf_token": token,
            "field": "sections-2-subsections-1-body",
            "sections-2-subsections-1-body": "**Rest** <script>alert(1)</script>",
        },
    )
    assert previewed.status_code == 200
    html = previewed.get_data(as_text=True)
    assert "<strong>Rest</strong>" in html and "<script>" not in html


def test_new_sub_sections_get_keys_unique_in_the_whole_article(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    article_id = _create(client, token, slug="keys-in-the-studio")
    two = {
        "sections-0-key": "first",
        "sections-0-heading": "First",
        "sections-1-key": "second",
        "sections-1-heading": "Second",
    }

    def send(op: str, **fields: str):
        return _edit(client, token, article_id, op, {**two, **fields})

    assert send("sub-add:0").status_code == 303
    child = {
        "sections-0-subsections-0-key": "sub-section-1",
        "sections-0-subsections-0-heading": "A",
    }
    assert send("sub-add:1", **child).status_code == 303
    sections = _api_article(client, admin_token, article_id)["sections"]
    keys = [c["key"] for s in sections for c in s["subsections"]]
    assert keys == ["sub-section-1", "sub-section-2"]


def test_a_page_from_before_sub_sections_were_edited_keeps_them(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    article_id = _create(client, token, slug="older-page")
    path = f"/studio/articles/{article_id}"
    section = {"sections-0-key": "causes", "sections-0-heading": "Causes"}
    child = {
        "sections-0-subsections-0-key": "injection",
        "sections-0-subsections-0-heading": "The injection",
    }
    assert _edit(client, token, article_id, "save", {**section, **child}).status_code == 303

    # A page loaded earlier sends no sub-section fields and no marker: they stay.
    older = {**_editor_form(client, article_id), "csrf_token": token, **section}
    older["sections-0-body"] = "Edited on an older page."
    older.pop("sections-0-subsections-present", None)
    assert client.post(f"{path}/autosave", data=older).status_code == 200
    shown = _api_article(client, admin_token, article_id)["sections"][0]
    assert shown["body"] == "Edited on an older page."
    assert [c["key"] for c in shown["subsections"]] == ["injection"]

    # Or their JSON, as such a page carried it: taken as sent.
    as_json = {**_editor_form(client, article_id), "csrf_token": token, **section}
    as_json["sections-0-subsections"] = '[{"key": "muscles", "heading": "Muscles", "body": ""}]'
    assert client.post(f"{path}/autosave", data=as_json).status_code == 200
    shown = _api_article(client, admin_token, article_id)["sections"][0]
    assert [c["key"] for c in shown["subsections"]] == ["muscles"]

    # And a marker with no sub-section fields means none.
    cleared = {**_editor_form(client, article_id), "csrf_token": token, **section}
    cleared["sections-0-subsections-present"] = "1"
    assert client.post(f"{path}/autosave", data=cleared).status_code == 200
    assert _api_article(client, admin_token, article_id)["sections"][0]["subsections"] == []


def test_a_long_title_makes_a_valid_key() -> None:
    title = "A" * 79 + " b"
    key = part_lists._key_from(title)
    assert len(key) <= 80 and not key.endswith("-") and key.startswith("aaa")
