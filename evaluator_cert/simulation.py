"""Synthetic annotators for demo cohorts, load tests and benchmarks.

A simulated trainee of skill ``p`` gives the gold answer with probability ``p`` and a
plausible wrong one otherwise, per decision, so agreement spreads out realistically.
"""

from __future__ import annotations

import random
from typing import Any

from evaluator_cert.content.schema import (
    VERDICTS,
    BoundingBoxItem,
    ClassificationItem,
    FactCheckItem,
    Item,
    JustificationItem,
    PairwiseItem,
    RankingItem,
    RubricRatingItem,
    SpanItem,
    TranscriptionItem,
)
from evaluator_cert.text import normalise_words, tokenize


def _other(rng: random.Random, options: list[Any], gold: Any) -> Any:
    wrong = [o for o in options if o != gold]
    return rng.choice(wrong) if wrong else gold


def simulated_answer(item: Item, skill: float, rng: random.Random) -> dict[str, Any]:
    """An answer to ``item`` from an annotator who matches gold with probability ``skill``."""
    hit = lambda: rng.random() < skill  # noqa: E731
    match item:
        case ClassificationItem():
            return {"label": item.gold if hit() else _other(rng, list(item.labels), item.gold)}
        case RubricRatingItem():
            ratings = {}
            for dim, gold in item.gold.items():
                if hit():
                    ratings[dim] = gold
                else:
                    step = rng.choice([-2, -1, 1, 2]) if rng.random() < 0.3 else rng.choice([-1, 1])
                    ratings[dim] = min(item.scale_max, max(item.scale_min, gold + step))
            return {"ratings": ratings}
        case PairwiseItem():
            first = rng.choice(["A", "B"])
            choice = item.gold if hit() else _other(rng, item.choices, item.gold)
            return {"choice": choice, "shown_first": first}
        case RankingItem():
            order = list(item.gold)
            if not hit():
                i = rng.randrange(len(order) - 1)
                order[i], order[i + 1] = order[i + 1], order[i]
            return {"order": order}
        case JustificationItem():
            choice = item.gold if hit() else _other(rng, list(item.choices), item.gold)
            covered = [kp.keywords[0] for kp in item.key_points if hit()]
            filler = "The response should be judged on the rubric and the user's request"
            words = max(item.min_words, 30)
            text = (" ".join([*covered, filler] * words)).split()[: words + len(covered)]
            return {"choice": choice, "text": " ".join(text)}
        case FactCheckItem():
            return {
                "verdicts": {
                    c.id: c.gold if hit() else _other(rng, list(VERDICTS), c.gold)
                    for c in item.claims
                }
            }
        case SpanItem():
            spans = []
            n_tokens = len(tokenize(item.text))
            for start, end, label in item.gold_spans:
                if hit():
                    spans.append({"start": start, "end": end, "label": label})
                elif rng.random() < 0.5 and end < n_tokens:
                    spans.append({"start": start, "end": end + 1, "label": label})
            return {"spans": spans}
        case BoundingBoxItem():
            boxes = []
            for gold in item.gold:
                if not hit():
                    continue
                x0, y0, x1, y1 = gold.box
                jitter = 0.05 * min(x1 - x0, y1 - y0)
                box = [
                    max(0.0, x0 + rng.uniform(-jitter, jitter)),
                    max(0.0, y0 + rng.uniform(-jitter, jitter)),
                    min(float(item.width), x1 + rng.uniform(-jitter, jitter)),
                    min(float(item.height), y1 + rng.uniform(-jitter, jitter)),
                ]
                boxes.append({"label": gold.label, "box": box})
            return {"boxes": boxes}
        case TranscriptionItem():
            words = normalise_words(item.gold)
            out = [w for w in words if hit() or rng.random() < 0.5]
            return {"text": " ".join(out)}
    raise TypeError(f"no simulation for {type(item).__name__}")
