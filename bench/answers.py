"""Instant-answer latency and answer rate on the seeded site, through the app, one at a time."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from typing import Any
from urllib.parse import quote

from flask_migrate import upgrade

from cms_api import create_app
from cms_api.config import Settings
from cms_api.database import db, drop_database, ensure_database
from cms_api.services.integrations.seeds import load_seeds

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# Lay questions a reader might type under the seeded articles, and some no article answers.
QUESTIONS = (
    "how long does a headache after botox last",
    "why do i get a headache after botox",
    "can botox cause headaches",
    "what helps a headache after botox injections",
    "is it normal to have a headache the day after botox",
    "can lip filler cause headaches",
    "how long does lip filler swelling last",
    "how do i reduce swelling after lip filler",
    "is bruising normal after lip filler",
    "is jaw pain with headache serious",
    "can tmj cause headaches",
    "what helps tmj headache at home",
    "does clenching my teeth cause headaches",
    "can allergies cause headaches",
    "what is the best allergy medicine for a headache",
    "allergy headache or sinus infection",
    "can an ear infection cause a headache",
    "when should i see a doctor for an ear infection",
    "does an ear infection go away on its own",
    "headache with ear pain on one side",
    "why does my ear hurt with a headache",
    "can liver disease cause a rash",
    "itchy skin and liver problems",
    "what does a liver rash look like",
    "when is a headache an emergency",
    "can i take ibuprofen for a headache",
    "how much water should i drink for headaches",
    "best pizza in town",
    "how do i renew my passport",
    "what time is the football match",
    "cheap flights to lisbon",
    "how to fix a flat bicycle tyre",
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", default=LOCAL_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the questions")
    args = parser.parse_args()

    name = f"cms_bench_answers_{uuid.uuid4().hex[:6]}"
    url = ensure_database(args.server, name)
    try:
        app = create_app(
            {
                # One client asks every question: the search limit would refuse most.
                "CMS_SETTINGS": Settings(database_url=url, search_rate_limit="1000000 per minute"),
                "SQLALCHEMY_DATABASE_URI": url,
                "CMS_ACCESS_LOG": False,
            }
        )
        with app.app_context():
            upgrade()
            load_seeds()
            db.session.commit()
        client = app.test_client()
        timings: list[float] = []
        answered: dict[str, Any] = {}
        for _ in range(args.rounds):
            for question in QUESTIONS:
                started = time.perf_counter()
                response = client.get(f"/v1/answers?q={quote(question)}")
                timings.append((time.perf_counter() - started) * 1000)
                body = response.get_json()
                first = (body.get("passages") or [{}])[0].get("citation", {})
                answered[question] = (body["answered"], first.get("url"))
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(args.server, name)

    result = {
        "questions": len(QUESTIONS),
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "answered": sum(1 for done, _ in answered.values() if done),
        "answers": {question: url for question, (done, url) in answered.items() if done},
        "declined": [question for question, (done, _) in answered.items() if not done],
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
