"""Red flag matching: emergencies however typed find their guidance; ordinary questions none."""

from __future__ import annotations

import pytest

from cms_api.services.discovery import red_flags
from cms_api.services.discovery.red_flags import Matcher, TriggerError, parse_trigger, words
from tests.support.api import bearer

# (what a reader types, the seeded red flag it must show)
EMERGENCIES = [
    ("worst headache of my life", "thunderclap-headache"),
    ("worst headche of my life", "thunderclap-headache"),
    ("Worst headache of my life, came on suddenly", "thunderclap-headache"),
    ("thunderclap hedache", "thunderclap-headache"),
    ("sudden severe headache after botox", "thunderclap-headache"),
    ("my head feels like it is exploding", "thunderclap-headache"),
    ("suddenly the worst head pain ever", "thunderclap-headache"),
    ("worst haedache ever", "thunderclap-headache"),
    ("headache with fever and stiff neck", "headache-fever-stiff-neck"),
    ("bad headache, high temperature and my neck is stiff", "headache-fever-stiff-neck"),
    ("stiff neck and a fever", "headache-fever-stiff-neck"),
    ("Headaches + fever + a rash", "headache-fever-stiff-neck"),
    ("could this be meningitis", "headache-fever-stiff-neck"),
    ("face drooping and slurred speech", "stroke-signs"),
    ("face droopping", "stroke-signs"),
    ("one side of my face is drooping", "stroke-signs"),
    ("my words are slurred", "stroke-signs"),
    ("sudden weakness in my left arm", "stroke-signs"),
    ("I can't lift my arm", "stroke-signs"),
    ("am i having a stroke", "stroke-signs"),
    ("chest pain spreading to my arm", "chest-pain"),
    ("crushing pressure in my chest", "chest-pain"),
    ("CHEST PAIN!!!", "chest-pain"),
    ("tightness in my chest", "chest-pain"),
    ("i think im having a heart attack", "chest-pain"),
    ("pain radiating down my left arm", "chest-pain"),
    ("cant breathe after botox", "anaphylaxis"),
    ("can\u2019t breathe", "anaphylaxis"),
    ("my throat is swelling after the injection", "anaphylaxis"),
    ("trouble breathing after filler", "anaphylaxis"),
    ("difficulty breathing after a vaccine", "anaphylaxis"),
    ("tongue swelling", "anaphylaxis"),
    ("I want to kill myself", "suicide-or-self-harm"),
    ("i want to end my life", "suicide-or-self-harm"),
    ("feeling suicidal", "suicide-or-self-harm"),
    ("thinking about sucide", "suicide-or-self-harm"),
    ("I keep hurting myself", "suicide-or-self-harm"),
    ("i dont want to live anymore", "suicide-or-self-harm"),
    ("vision loss after filler", "filler-vascular-occlusion"),
    ("blurry vision after lip fillers", "filler-vascular-occlusion"),
    ("white patch of skin after filler injection", "filler-vascular-occlusion"),
    ("the skin went pale and blanching after filler", "filler-vascular-occlusion"),
    ("my lips turned white after filler", "filler-vascular-occlusion"),
    ("cant see out of one eye after filler", "filler-vascular-occlusion"),
    ("Vísión lóss after fíller", "filler-vascular-occlusion"),
]

ORDINARY = [
    "how long does a headache after botox last",
    "can allergies cause headaches",
    "is ibuprofen ok for tmj pain",
    "chest of drawers",
    "my arm is sore after the flu shot",
    "what causes tension headaches",
    "how much does lip filler cost",
    "how long does swelling last after lip filler",
    "can botox help with migraine",
    "is it safe to exercise after botox",
    "best pillow for neck pain",
    "what is tmj",
    "does caffeine help a headache",
    "headache and fever after flu shot",
    "how do I stop teeth grinding at night",
    "bruising after filler",
    "can I drink alcohol after botox",
    "why does my jaw click",
    "ear pain when chewing",
    "is paracetamol safe in pregnancy",
    "what is the worst time to get botox",
    "how many units of botox for forehead lines",
    "sinus headache or migraine",
    "my neck is sore from sleeping badly",
    "side effects of lip filler",
    "how to treat a cold sore before filler",
    "breathing exercises for anxiety",
    "does tmj cause ear ringing",
    "headache behind the eyes when reading",
    "my eyelid is drooping after botox",
    "hay fever and sinus pressure",
    "chest acne after workouts",
    "the last headache I had lasted two days",
    "is dermal filler reversible",
    "what happens if botox migrates",
    "my lip is swollen after filler is that normal",
    "can stress cause jaw pain",
    "my arm feels heavy after gym",
    "how long to wait between filler appointments",
    "speech therapy for children",
    "weekly headaches on weekends",
    "a week after botox my forehead feels tight",
]


@pytest.fixture
def seeded(app):
    with app.app_context():
        yield


def _slug(guidance: dict | None) -> str | None:
    return guidance["slug"] if guidance else None


@pytest.mark.parametrize(("text", "expected"), EMERGENCIES)
def test_an_emergency_shows_its_red_flag(seeded, text, expected):
    assert _slug(red_flags.match(text)) == expected


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_question_shows_none(seeded, text):
    assert red_flags.match(text) is None, text


def test_the_tables_are_large_enough():
    assert len(EMERGENCIES) >= 40
    assert len(ORDINARY) >= 40


def test_the_guidance_is_the_published_public_json(seeded, client):
    guidance = red_flags.match("worst headache of my life")
    assert guidance is not None
    listed = client.get("/v1/red-flags?limit=100").get_json()["items"]
    assert guidance in listed
    assert guidance["action"] == {
        "label": "Call 911 or your local emergency number",
        "url": "tel:911",
    }
    assert guidance["body_html"].startswith("<p>")
    suicide = red_flags.match("i want to end my life")
    assert suicide is not None and "988" in suicide["body_html"]
    assert suicide["action"]["url"] == "tel:988"


def test_the_first_in_priority_order_wins(seeded):
    # Both a stroke sign and a thunderclap headache: stroke signs come first.
    assert _slug(red_flags.match("worst headache of my life and slurred speech")) == (
        "stroke-signs"
    )
    # Thoughts of suicide come before everything.
    assert _slug(red_flags.match("chest pain and i want to kill myself")) == (
        "suicide-or-self-harm"
    )


def test_empty_and_huge_text(seeded):
    assert red_flags.match("") is None
    assert red_flags.match("   ?!  ") is None
    assert red_flags.match("headache " * 10_000) is None


def test_words_fold_case_accents_punctuation_and_plurals():
    assert words("Can\u2019t BREATHE!! Headaches; allergies, Crème") == [
        "cant",
        "breathe",
        "headache",
        "allergy",
        "creme",
    ]


def test_an_unreadable_trigger_is_refused():
    with pytest.raises(TriggerError):
        parse_trigger("headache + ")
    with pytest.raises(TriggerError):
        parse_trigger("sudden || worst + headache")
    assert parse_trigger("sudden | worst + headache") == [[["sudden"], ["worst"]], [["headache"]]]


def test_a_phrase_needs_its_words_in_order():
    matcher = Matcher.compile([{"slug": "x", "triggers": ["end my life"]}])
    assert matcher.first_match("I want to end my life") is not None
    assert matcher.first_match("my life will end") is None


def _create_published(client, editor, reviewer, **fields) -> dict:
    body = {
        "slug": "kidney-stone-pain",
        "name": "Severe flank pain",
        "priority": 5,
        "triggers": ["flank + agony | unbearable"],
        "title": "Get checked today",
        "body": "See a doctor **today**.",
        "action": {"label": "Call 911", "url": "tel:911"},
        **fields,
    }
    created = client.post("/v1/admin/red-flags", json=body, headers=bearer(editor))
    assert created.status_code == 201, created.get_json()
    url = f"/v1/admin/red-flags/{created.get_json()['id']}"
    for step, token in (("submit", editor), ("approve", reviewer), ("publish", editor)):
        moved = client.post(f"{url}/{step}", headers=bearer(token))
        assert moved.status_code == 200, (step, moved.get_json())
    return moved.get_json()


def _write(client, method: str, url: str, token: str, **body):
    etag = client.get(url, headers=bearer(token)).headers["ETag"]
    return client.open(url, method=method, json=body, headers=bearer(token, **{"If-Match": etag}))


def test_only_published_red_flags_match(app, client, editor, make_token):
    reviewer = make_token("reviewer")
    with app.app_context():
        assert red_flags.match("unbearable flank pain") is None
    created = client.post(
        "/v1/admin/red-flags",
        json={
            "slug": "draft-flag",
            "name": "Draft",
            "triggers": ["flank + agony | unbearable"],
            "title": "Draft",
            "body": "Draft.",
            "action": {"label": "Call 911", "url": "tel:911"},
        },
        headers=bearer(editor),
    )
    assert created.status_code == 201
    url = f"/v1/admin/red-flags/{created.get_json()['id']}"
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    assert client.post(f"{url}/approve", headers=bearer(reviewer)).status_code == 200
    with app.app_context():
        # Drafts, red flags in review and approved ones match nothing.
        assert red_flags.match("unbearable flank pain") is None

    published = _create_published(client, editor, reviewer)
    with app.app_context():
        assert _slug(red_flags.match("unbearable flank pain")) == "kidney-stone-pain"
    url = f"/v1/admin/red-flags/{published['id']}"

    unpublished = client.post(f"{url}/unpublish", headers=bearer(editor))
    assert unpublished.status_code == 200 and unpublished.get_json()["live"] is False
    with app.app_context():
        assert red_flags.match("unbearable flank pain") is None
    assert client.post(f"{url}/publish", headers=bearer(editor)).status_code == 200
    with app.app_context():
        assert _slug(red_flags.match("unbearable flank pain")) == "kidney-stone-pain"

    assert _write(client, "DELETE", url, editor).status_code == 204
    with app.app_context():
        assert red_flags.match("unbearable flank pain") is None
    restored = client.post(f"{url}/restore", headers=bearer(editor))
    assert restored.status_code == 200 and restored.get_json()["status"] == "draft"
    with app.app_context():
        assert red_flags.match("unbearable flank pain") is None


def test_an_edit_keeps_the_published_guidance_until_published_again(
    app, client, editor, make_token
):
    reviewer = make_token("reviewer")
    published = _create_published(client, editor, reviewer)
    url = f"/v1/admin/red-flags/{published['id']}"
    edited = _write(client, "PATCH", url, editor, triggers=["flank + excruciating"])
    assert edited.status_code == 200 and edited.get_json()["status"] == "draft"
    assert edited.get_json()["live"] is True
    with app.app_context():
        # The reviewed triggers still apply; the new words wait for their review.
        assert _slug(red_flags.match("unbearable flank pain")) == "kidney-stone-pain"
        assert red_flags.match("excruciating flank pain") is None
    for step, token in (("submit", editor), ("approve", reviewer), ("publish", editor)):
        assert client.post(f"{url}/{step}", headers=bearer(token)).status_code == 200
    with app.app_context():
        assert red_flags.match("unbearable flank pain") is None
        assert _slug(red_flags.match("excruciating flank pain")) == "kidney-stone-pain"
