"""What a question asks for (causes, treatment, how long it lasts…), as sections are kinds."""

from __future__ import annotations

import re

# Articles are written in sections of known kinds (the section keys editors use: causes,
# treatment, prevention, …), and readers' questions say which kind they want in a few
# stock phrasings: "why…" asks for causes, "what helps…" for treatment. Each kind lists the
# phrasings that ask for it; a section key or an FAQ's question is matched the same way.
# The phrasings are English: a question in another locale asks for no kind, which weighs
# neither for nor against any passage (Features.intent_match and intent_other stay 0).
INTENTS: dict[str, tuple[str, ...]] = {
    "causes": (
        "why",
        "cause",
        "causes",
        "caused",
        "causing",
        "reason",
        "reasons",
        "trigger",
        "triggers",
        "triggered",
        "because",
        "what makes",
        "where does",
        "come from",
    ),
    "treatment": (
        "help",
        "helps",
        "treat",
        "treated",
        "treating",
        "treatment",
        "treatments",
        "relief",
        "relieve",
        "get rid",
        "cure",
        "medicine",
        "medication",
        "remedy",
        "remedies",
        "ease",
        "soothe",
        "painkiller",
        "painkillers",
        "take for",
        "fix",
        "best thing",
        "what can i do",
        "what should i do",
    ),
    "prevention": (
        "prevent",
        "prevents",
        "prevention",
        "avoid",
        "before",
        "stop it",
        "reduce the chance",
        "lower the risk",
        "less likely",
        "keep it from",
        "ahead of",
    ),
    "when-to-see-a-doctor": (
        "doctor",
        "gp",
        "worry",
        "worried",
        "worrying",
        "serious",
        "emergency",
        "warning",
        "urgent",
        "a&e",
        "er",
        "hospital",
        "dangerous",
        "concerned",
        "see someone",
        "when should i",
        "red flag",
        "medical help",
    ),
    "symptoms": (
        "symptom",
        "symptoms",
        "signs",
        "sign",
        "feel like",
        "feels like",
        "look like",
        "looks like",
        "know if",
        "how do i tell",
        "what does it feel",
    ),
    "overview": ("what is", "what are", "what does", "meaning", "mean", "definition", "explain"),
    "risk-factors": ("risk", "risks", "more likely", "who gets", "prone", "chance of"),
    "complications": ("complication", "complications", "side effect", "side effects", "go wrong"),
    "duration": (
        "how long",
        "last",
        "lasts",
        "lasting",
        "go away",
        "goes away",
        "wear off",
        "wears off",
        "settle",
        "settles",
        "until",
        "still",
    ),
}
_PATTERNS = {
    kind: re.compile(r"(?<![\w&])(?:" + "|".join(map(re.escape, words)) + r")(?![\w&])")
    for kind, words in INTENTS.items()
}


def of_question(text: str) -> frozenset[str]:
    """The kinds of answer a question (a reader's, or an FAQ's) asks for."""
    lowered = text.casefold()
    return frozenset(kind for kind, pattern in _PATTERNS.items() if pattern.search(lowered))


def of_passage(anchor: str | None, heading: str) -> frozenset[str]:
    """The kinds a passage answers: its section key's, or its FAQ question's."""
    if anchor in INTENTS:
        return frozenset({anchor})
    return of_question(heading) if anchor is None else frozenset()
