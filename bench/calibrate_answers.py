"""Fits instant answers' ranking and confidence, two logistic regressions, to the development set.

    .venv/bin/python -m bench.calibrate_answers [--database-url URL] [--corpus-articles N]

Every shortlisted passage of every development-set question is an example: its features
(`answers.Features`) and whether the set accepts it as an answer. The fits are checked by
5-fold cross-validation over questions, so the reported precision and
calibration are those of questions the weights were not fitted on. It prints the values to
put in `answers.RANKING_WEIGHTS`, `RANKING_BIAS` and `CALIBRATION`, their held-out figures at a
sweep of thresholds, and the current values' figures on the whole set (in-sample) beside them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from bench.answers import DEVSET, _load, _setup, load_devset
from cms_api.database import db, drop_database, ensure_database
from cms_api.domain import clock
from cms_api.services.discovery import answers

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
FOLDS = 5
L2 = 0.01
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)


@dataclass
class Question:
    q: str
    on_topic: bool
    features: np.ndarray  # (shortlist, features)
    accepted: np.ndarray  # bool per shortlisted passage


def target_of_row(row) -> str:
    return f"{row.page_slug}#{row.anchor}" if row.anchor else f"{row.page_slug}?{row.heading}"


def collect(app, devset: Path) -> list[Question]:
    on_topic, off_topic = load_devset(devset)
    questions = [(q, set(targets)) for q, targets in on_topic] + [(q, None) for q in off_topic]
    collected = []
    with app.test_request_context():
        today = clock.utcnow().date()
        for q, targets in questions:
            if answers.urgent_guidance(q) is not None:
                continue
            shortlist = answers.ranked(q, today)
            collected.append(
                Question(
                    q=q,
                    on_topic=targets is not None,
                    features=np.array(
                        [item.features.values() for item in shortlist], dtype=float
                    ).reshape(len(shortlist), len(answers.RANKING_WEIGHTS)),
                    accepted=np.array(
                        [
                            bool(targets) and target_of_row(item.row) in targets
                            for item in shortlist
                        ],
                        dtype=bool,
                    ),
                )
            )
        db.session.remove()
    return collected


def _logistic(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """L2-regularized logistic regression by Newton's method; the last column of `x` is the
    constant, which is not penalized. Returns the coefficients."""
    coefficients = np.zeros(x.shape[1])
    penalty = np.diag([l2] * (x.shape[1] - 1) + [0.0]) * len(x)
    for _ in range(100):
        p = 1 / (1 + np.exp(-x @ coefficients))
        gradient = x.T @ (p - y) + penalty @ coefficients
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        coefficients -= step
        if np.abs(step).max() < 1e-9:
            break
    return coefficients


Model = tuple[np.ndarray, float, tuple[float, float, float]]


def _top_and_lead(question: Question, weights: np.ndarray, bias: float) -> tuple[int, float, float]:
    """The best-scored passage's index, its score and its (clipped) lead."""
    scores = question.features @ weights + bias
    best = int(np.argmax(scores))
    lead = answers.leads([float(score) for score in scores])[best]
    return best, float(scores[best]), max(-answers.LEAD_CAP, min(answers.LEAD_CAP, lead))


def _listwise(questions: list[Question], l2: float) -> np.ndarray:
    """Ranking weights fitted question by question (a conditional logit): a softmax over each
    shortlist, maximizing the share of it that falls on accepted passages. It orders each
    question's passages against each other, which is what ranking needs, rather than scoring
    passages of all questions on one scale. L2-regularized; no constant (it would cancel)."""
    answerable = [q for q in questions if q.accepted.any()]
    penalty = l2 * len(answerable)

    def loss(weights: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = penalty * weights @ weights, 2 * penalty * weights
        for q in answerable:
            scores = q.features @ weights
            share = np.exp(scores - scores.max())
            share /= share.sum()
            accepted = share[q.accepted].sum()
            total -= math.log(accepted)
            within = np.where(q.accepted, share / accepted, 0.0)
            gradient -= q.features.T @ (within - share)
        return total, gradient

    start = np.zeros(len(answers.RANKING_WEIGHTS))
    return minimize(loss, start, jac=True, method="L-BFGS-B").x


def fit(questions: list[Question]) -> Model:
    """The two steps of `answers`: a ranking of each question's shortlisted passages, then a
    calibration of the top passage's score and lead against whether it is accepted (over
    every question, off-topic ones included), so that the confidence means what it says."""
    asked = [q for q in questions if len(q.features)]
    weights, bias = _listwise(asked, L2), 0.0
    tops, rights = [], []
    for q in asked:
        best, score, lead = _top_and_lead(q, weights, bias)
        tops.append([score, lead, 1.0])
        rights.append(float(q.accepted[best]))
    per_score, per_lead, constant = _logistic(np.array(tops), np.array(rights), 0.0)
    return weights, bias, (float(per_score), float(per_lead), float(constant))


def scored(question: Question, model: Model) -> tuple[float, bool, bool]:
    """The top confidence, whether the top passage is accepted, and any of the top three."""
    if not len(question.features):
        return 0.0, False, False
    weights, bias, (per_score, per_lead, constant) = model
    best, score, lead = _top_and_lead(question, weights, bias)
    order = np.argsort(-(question.features @ weights + bias), kind="stable")
    sure = 1 / (1 + math.exp(-(per_score * score + per_lead * lead + constant)))
    return sure, bool(question.accepted[best]), bool(question.accepted[order[:3]].any())


def report(held_out: list[tuple[Question, float, bool, bool]]) -> dict:
    on_topic = [row for row in held_out if row[0].on_topic]
    off_topic = [row for row in held_out if not row[0].on_topic]
    result: dict = {
        "recall_at_3": round(sum(r[3] for r in on_topic) / len(on_topic), 3),
        "thresholds": {},
    }
    for threshold in THRESHOLDS:
        answered = [r for r in on_topic if r[1] >= threshold]
        result["thresholds"][threshold] = {
            "answered": round(len(answered) / len(on_topic), 3),
            "precision": round(sum(r[2] for r in answered) / len(answered), 3)
            if answered
            else None,
            "off_topic_answered": round(
                sum(r[1] >= threshold for r in off_topic) / max(len(off_topic), 1), 3
            ),
        }
    # Calibration of the top confidence against whether the top passage is accepted.
    buckets: dict[int, list[tuple[float, bool]]] = {}
    for _, sure, right, _ in held_out:
        buckets.setdefault(min(int(sure * 10), 9), []).append((sure, right))
    ece = sum(
        len(rows)
        / len(held_out)
        * abs(np.mean([s for s, _ in rows]) - np.mean([r for _, r in rows]))
        for rows in buckets.values()
    )
    result["ece"] = round(float(ece), 4)
    result["brier"] = round(float(np.mean([(s - r) ** 2 for _, s, r, _ in held_out])), 4)
    return result


def cross_validate(questions: list[Question]) -> list[tuple[Question, float, bool, bool]]:
    order = list(range(len(questions)))
    random.Random(20261203).shuffle(order)
    held_out = []
    for fold in range(FOLDS):
        test = [questions[i] for i in order[fold::FOLDS]]
        train = [questions[i] for i in order if i not in set(order[fold::FOLDS])]
        model = fit(train)
        held_out += [(q, *scored(q, model)) for q in test]
    return held_out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=LOCAL_SERVER)
    parser.add_argument("--corpus-articles", type=int, default=0)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    args = parser.parse_args(argv)

    name = f"cms_bench_calibrate_{uuid.uuid4().hex[:6]}"
    url = ensure_database(args.database_url, name)
    try:
        app = _setup(url, None)
        _load(app, args.corpus_articles)
        questions = collect(app, args.devset)
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(args.database_url, name)

    current = np.array(answers.RANKING_WEIGHTS), answers.RANKING_BIAS, answers.CALIBRATION
    weights, bias, calibration = fit(questions)
    output = {
        "questions": len(questions),
        "examples": int(sum(len(q.features) for q in questions)),
        "fitted": {
            "RANKING_WEIGHTS": [round(float(w), 3) for w in weights],
            "RANKING_BIAS": round(bias, 3),
            "CALIBRATION": [round(value, 3) for value in calibration],
        },
        "held_out_fitted": report(cross_validate(questions)),
        "current_weights": report([(q, *scored(q, current)) for q in questions]),
    }
    json.dump(output, sys.stdout, indent=2)
    print()
    return 0 if math.isfinite(bias) else 1


if __name__ == "__main__":
    raise SystemExit(main())
