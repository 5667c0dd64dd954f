"""One answer widget per task type, and the feedback shown after an answer.

Each widget renders the item's material and a form; it returns the answer dict (the shape
``evaluator_cert.grading`` grades) when the trainee submits a complete answer, else None.
Nothing here shows gold: ``show_feedback`` is called only with a saved, graded answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from evaluator_cert.content.schema import (
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
from evaluator_cert.services.attempts import MAX_TEXT, AnswerView, display_order
from evaluator_cert.text import tokenize

VERDICT_LABELS = {
    "supported": "Supported",
    "refuted": "Refuted",
    "not_enough_info": "Not enough info",
}
TASK_TITLES = {
    "classification": "Classification",
    "rubric_rating": "Rubric rating",
    "pairwise": "Pairwise preference",
    "ranking": "Ranking",
    "justification": "Justification",
    "fact_check": "Fact check",
    "span": "Span labelling",
    "bounding_box": "Bounding boxes",
    "transcription": "Transcription",
}
MediaResolver = Callable[[str], Path]
# Grader details worth a number in the feedback line (key -> what to call it).
FEEDBACK_FIGURES = {
    "tau": "Kendall tau-b vs gold",
    "f1": "F1",
    "mean_iou": "mean IoU of matched boxes",
    "wer": "word error rate",
}


def _quote(label: str, body: str) -> None:
    st.caption(label)
    with st.container(border=True):
        st.markdown(body)


def show_material(item: Item, media: MediaResolver) -> None:
    """The item's prompt, text, response, image or audio (never gold)."""
    st.markdown(f"**{item.instructions}**")
    if item.prompt:
        _quote("User prompt", item.prompt)
    if item.text and not isinstance(item, SpanItem):
        _quote("Text", item.text)
    if item.response:
        _quote("Model response", item.response)
    if isinstance(item, FactCheckItem) and item.evidence:
        _quote("Evidence", item.evidence)
    if item.image and not isinstance(item, BoundingBoxItem):
        st.image(str(media(item.image)))
    if item.audio:
        st.audio(str(media(item.audio)))


def _responses(responses: dict[str, str], order: list[str], prefix: str = "Response") -> None:
    cols = st.columns(len(order)) if len(order) <= 3 else [st.container() for _ in order]
    for col, rid in zip(cols, order, strict=True):
        with col:
            _quote(f"{prefix} {rid}", responses[rid])


def answer_widget(
    item: Item, *, seed: int, media: MediaResolver, key: str
) -> dict[str, Any] | None:
    """Render the item and its form; return a complete answer once submitted."""
    show_material(item, media)
    handler = _WIDGETS[item.type]
    return handler(item, seed, media, key)


def _submit(label: str = "Submit answer") -> bool:
    return st.form_submit_button(label, type="primary")


def _classification(item: ClassificationItem, seed: int, media: MediaResolver, key: str) -> Any:
    with st.form(key):
        label = st.radio("Your label", item.labels, index=None, horizontal=True, key=f"{key}_l")
        if _submit():
            if label is None:
                st.warning("Choose a label first.")
                return None
            return {"label": label}
    return None


def _rubric(item: RubricRatingItem, seed: int, media: MediaResolver, key: str) -> Any:
    with st.form(key):
        ratings: dict[str, int | None] = {}
        for dim in item.dimensions:
            anchors = (item.anchors or {}).get(dim, {})
            help_text = "; ".join(f"{k}: {v}" for k, v in sorted(anchors.items())) or None
            ratings[dim] = st.radio(
                dim.replace("_", " ").capitalize(),
                item.scale,
                index=None,
                horizontal=True,
                help=help_text,
                key=f"{key}_{dim}",
            )
        if _submit():
            missing = [d for d, v in ratings.items() if v is None]
            if missing:
                st.warning(f"Rate every dimension: {', '.join(missing)} still open.")
                return None
            return {"ratings": ratings}
    return None


def _pairwise(item: PairwiseItem, seed: int, media: MediaResolver, key: str) -> Any:
    order = display_order(seed, item.id, ["A", "B"])
    # Shown as "Response 1 / 2" so the ids' letters cannot cue a preference.
    shown = {f"{n}": rid for n, rid in zip(("1", "2"), order, strict=True)}
    _responses({n: item.responses[rid] for n, rid in shown.items()}, ["1", "2"])
    options = ["Response 1 is better", "Response 2 is better"]
    if item.allow_tie:
        options.insert(1, "Tie: equally good")
    with st.form(key):
        choice = st.radio("Your preference", options, index=None, horizontal=True, key=f"{key}_p")
        if _submit():
            if choice is None:
                st.warning("Choose a preference first.")
                return None
            picked = "tie" if choice.startswith("Tie") else shown[choice.split()[1]]
            return {"choice": picked, "shown_first": order[0]}
    return None


def _ranking(item: RankingItem, seed: int, media: MediaResolver, key: str) -> Any:
    order = display_order(seed, item.id, list(item.responses))
    _responses(item.responses, order)
    with st.form(key):
        ranked = st.multiselect(
            "Pick the responses from best to worst (the order you pick them is your ranking)",
            order,
            format_func=lambda rid: f"Response {rid}",
            key=f"{key}_r",
        )
        if _submit():
            if sorted(ranked) != sorted(item.responses):
                st.warning(f"Rank all {len(item.responses)} responses, each once.")
                return None
            return {"order": list(ranked)}
    return None


def _justification(item: JustificationItem, seed: int, media: MediaResolver, key: str) -> Any:
    if item.responses:
        _responses(item.responses, list(item.responses))
    with st.form(key):
        choice = st.radio(item.question, item.choices, index=None, horizontal=True, key=f"{key}_c")
        text = st.text_area(
            f"Your justification (at least {item.min_words} words)",
            max_chars=MAX_TEXT,
            height=160,
            key=f"{key}_t",
        )
        if _submit():
            words = len(text.split())
            if choice is None:
                st.warning("Make your choice first.")
                return None
            if words < item.min_words:
                st.warning(f"Write at least {item.min_words} words ({words} so far).")
                return None
            return {"choice": choice, "text": text}
    return None


def _fact_check(item: FactCheckItem, seed: int, media: MediaResolver, key: str) -> Any:
    with st.form(key):
        verdicts: dict[str, str | None] = {}
        for claim in item.claims:
            verdicts[claim.id] = st.radio(
                claim.text,
                list(VERDICT_LABELS),
                format_func=VERDICT_LABELS.__getitem__,
                index=None,
                horizontal=True,
                key=f"{key}_{claim.id}",
            )
        if _submit():
            if any(v is None for v in verdicts.values()):
                st.warning("Give a verdict for every claim.")
                return None
            return {"verdicts": verdicts}
    return None


def spans_from_tokens(selected: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Contiguous runs of selected tokens become spans, one label each."""
    spans = []
    for label, indices in selected.items():
        run: list[int] = []
        for i in sorted(set(indices)):
            if run and i != run[-1] + 1:
                spans.append({"start": run[0], "end": run[-1] + 1, "label": label})
                run = []
            run.append(i)
        if run:
            spans.append({"start": run[0], "end": run[-1] + 1, "label": label})
    return sorted(spans, key=lambda s: s["start"])


def _span(item: SpanItem, seed: int, media: MediaResolver, key: str) -> Any:
    tokens = [t.text for t in tokenize(item.text)]
    _quote("Text", item.text)
    st.caption(
        "Select the tokens of each span under its label; neighbouring tokens join into one "
        "span. Submit with nothing selected if there is nothing to mark."
    )
    with st.form(key):
        selected: dict[str, list[int]] = {}
        for label in item.labels:
            selected[label] = st.pills(
                label,
                list(range(len(tokens))),
                format_func=lambda i: tokens[i],
                selection_mode="multi",
                key=f"{key}_{label}",
            )
        if _submit():
            taken = [i for idx in selected.values() for i in idx]
            if len(taken) != len(set(taken)):
                st.warning("A token can carry only one label.")
                return None
            return {"spans": spans_from_tokens(selected)}
    return None


def box_figure(
    image_path: Path, width: int, height: int, boxes: list[dict[str, Any]], colour: str = "#e8590c"
) -> go.Figure:
    """The image with boxes drawn over it, in image pixel coordinates (y downwards)."""
    import base64

    encoded = base64.b64encode(image_path.read_bytes()).decode()
    fig = go.Figure()
    fig.add_layout_image(
        source=f"data:image/png;base64,{encoded}",
        x=0,
        y=0,
        sizex=width,
        sizey=height,
        xref="x",
        yref="y",
        layer="below",
        sizing="stretch",
    )
    # An invisible grid of points so box selection reports coordinates anywhere.
    xs = [
        x
        for x in range(0, width + 1, max(1, width // 48))
        for _ in range(0, height + 1, max(1, height // 32))
    ]
    ys = [
        y
        for _ in range(0, width + 1, max(1, width // 48))
        for y in range(0, height + 1, max(1, height // 32))
    ]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", marker={"opacity": 0}, hoverinfo="skip"))
    for box in boxes:
        x0, y0, x1, y1 = box["box"]
        fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line={"color": colour, "width": 2})
        fig.add_annotation(
            x=x0,
            y=y0,
            text=box["label"],
            showarrow=False,
            yshift=8,
            font={"color": colour},
            xanchor="left",
        )
    fig.update_xaxes(range=[0, width], showgrid=False, visible=False)
    fig.update_yaxes(range=[height, 0], showgrid=False, visible=False, scaleanchor="x")
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        dragmode="select",
        height=int(height * 1.2),
        showlegend=False,
    )
    return fig


def _bounding_box(item: BoundingBoxItem, seed: int, media: MediaResolver, key: str) -> Any:
    state_key = f"{key}_boxes"
    boxes: list[dict[str, Any]] = st.session_state.setdefault(state_key, [])
    event = st.plotly_chart(
        box_figure(media(item.image), item.width, item.height, boxes),
        on_select="rerun",
        selection_mode="box",
        key=f"{key}_chart",
        config={"displayModeBar": True, "modeBarButtonsToRemove": ["lasso2d"]},
    )
    drawn = None
    selection = getattr(event, "selection", None) or {}
    for sel in selection.get("box", []) if isinstance(selection, dict) else []:
        xs, ys = sel.get("x", []), sel.get("y", [])
        if len(xs) == 2 and len(ys) == 2:
            drawn = [min(xs), min(ys), max(xs), max(ys)]
    st.caption(
        "Drag on the image (box select) to draw, or type the corners; pick the label and add "
        "the box. Coordinates are image pixels from the top-left corner."
    )
    with st.form(f"{key}_add", border=True):
        c = st.columns([2, 1, 1, 1, 1])
        label = c[0].selectbox("Label", item.labels, key=f"{key}_label")
        x0 = c[1].number_input("x0", 0, item.width, int(drawn[0]) if drawn else 0, key=f"{key}_x0")
        y0 = c[2].number_input("y0", 0, item.height, int(drawn[1]) if drawn else 0, key=f"{key}_y0")
        x1 = c[3].number_input("x1", 0, item.width, int(drawn[2]) if drawn else 0, key=f"{key}_x1")
        y1 = c[4].number_input("y1", 0, item.height, int(drawn[3]) if drawn else 0, key=f"{key}_y1")
        if st.form_submit_button("Add box"):
            if x1 <= x0 or y1 <= y0:
                st.warning("A box needs x1 > x0 and y1 > y0.")
            else:
                boxes.append({"label": label, "box": [float(x0), float(y0), float(x1), float(y1)]})
                st.rerun()
    for i, box in enumerate(boxes):
        c1, c2 = st.columns([5, 1])
        c1.write(f"{i + 1}. **{box['label']}** at {[round(v) for v in box['box']]}")
        if c2.button("Remove", key=f"{key}_rm_{i}"):
            boxes.pop(i)
            st.rerun()
    if st.button("Submit answer", type="primary", key=f"{key}_submit"):
        answer = {"boxes": list(boxes)}
        st.session_state.pop(state_key, None)
        return answer
    return None


def _transcription(item: TranscriptionItem, seed: int, media: MediaResolver, key: str) -> Any:
    with st.form(key):
        text = st.text_area("Your transcript", max_chars=MAX_TEXT, height=120, key=f"{key}_t")
        if _submit():
            if not text.strip():
                st.warning("Type what you hear first.")
                return None
            return {"text": text}
    return None


_WIDGETS: dict[str, Callable[..., Any]] = {
    "classification": _classification,
    "rubric_rating": _rubric,
    "pairwise": _pairwise,
    "ranking": _ranking,
    "justification": _justification,
    "fact_check": _fact_check,
    "span": _span,
    "bounding_box": _bounding_box,
    "transcription": _transcription,
}


# ------------------------------------------------------------------------------ feedback


def gold_text(item: Item) -> str:
    """The gold answer in words (shown only after the trainee has answered)."""
    match item:
        case ClassificationItem():
            return f"Gold label: **{item.gold}**"
        case RubricRatingItem():
            return "Gold ratings: " + ", ".join(f"{d} **{v}**" for d, v in item.gold.items())
        case PairwiseItem():
            return "Gold: **tie**" if item.gold == "tie" else f"Gold: **Response {item.gold}**"
        case RankingItem():
            return "Gold ranking: **" + " > ".join(item.gold) + "**"
        case JustificationItem():
            return f"Gold choice: **{item.gold}**"
        case FactCheckItem():
            return "Gold verdicts: " + "; ".join(
                f"{c.id} **{VERDICT_LABELS[c.gold]}**" for c in item.claims
            )
        case SpanItem():
            spans = ", ".join(f"“{g.text}” **{g.label}**" for g in item.gold) or "nothing to mark"
            return f"Gold spans: {spans}"
        case BoundingBoxItem():
            return "Gold boxes: " + ", ".join(
                f"**{b.label}** {[round(v) for v in b.box]}" for b in item.gold
            )
        case TranscriptionItem():
            return f"Gold transcript: “{item.gold}”"
    return ""


def show_feedback(item: Item, view: AnswerView, media: MediaResolver) -> None:
    """Right or wrong, the gold, the expert's explanation and what was missed."""
    score = f"score {view.score:.0%}"
    if view.pending_review:
        verdict = "agrees with" if view.correct else "differs from"
        message = (
            f"Your choice {verdict} gold ({score} so far); your written justification awaits "
            "an instructor's review."
        )
        (st.info if view.correct else st.error)(message)
    elif view.correct:
        st.success(f"Agrees with gold ({score}).", icon=":material/check_circle:")
    else:
        st.error(f"Differs from gold ({score}).", icon=":material/cancel:")
    feedback = view.feedback or {}
    st.markdown(gold_text(item))
    if isinstance(item, PairwiseItem) and view.answer.get("shown_first") in item.responses:
        # The trainee saw the pair as "Response 1 / 2"; say which letter was which.
        first = view.answer["shown_first"]
        second = next(r for r in item.responses if r != first)
        st.caption(f"You saw Response {first} as Response 1 and Response {second} as Response 2.")
    if isinstance(item, SpanItem):
        tokens = [t.text for t in tokenize(item.text)]
        marked = [
            f"“{' '.join(tokens[s['start'] : s['end']])}” **{s['label']}**"
            for s in view.answer.get("spans", [])
            if 0 <= s.get("start", -1) < s.get("end", -1) <= len(tokens)
        ]
        st.markdown("Your spans: " + (", ".join(marked) or "nothing marked"))
    if isinstance(item, RubricRatingItem):
        yours = view.answer.get("ratings", {})
        st.dataframe(
            [
                {
                    "dimension": d,
                    "yours": yours.get(d),
                    "gold": g,
                    "difference": (yours.get(d) or 0) - g,
                }
                for d, g in item.gold.items()
            ],
            hide_index=True,
        )
    if isinstance(item, FactCheckItem):
        yours = view.answer.get("verdicts", {})
        for claim in item.claims:
            mark = "✅" if yours.get(claim.id) == claim.gold else "❌"
            note = f" — {claim.note}" if claim.note else ""
            st.markdown(f"{mark} {claim.text}: **{VERDICT_LABELS[claim.gold]}**{note}")
    if isinstance(item, BoundingBoxItem):
        gold = [{"label": b.label, "box": list(b.box)} for b in item.gold]
        st.plotly_chart(
            box_figure(media(item.image), item.width, item.height, gold, "#2f9e44"),
            key=f"fb_{item.id}",
        )
    figures = {
        label: feedback[key]
        for key, label in FEEDBACK_FIGURES.items()
        if isinstance(feedback.get(key), int | float) and not isinstance(feedback.get(key), bool)
    }
    if figures:
        st.caption(" · ".join(f"{label}: {value:.2f}" for label, value in figures.items()))
    points = feedback.get("key_points")
    if isinstance(points, list) and points:
        st.markdown("**Key points the experts expect:**")
        for point in points:
            st.markdown(f"{'✅' if point.get('covered') else '❌'} {point.get('point', '')}")
    review = feedback.get("review")
    if isinstance(review, dict) and review.get("feedback"):
        st.markdown("**Your instructor's review:**")
        for text in review["feedback"]:
            st.text(str(text))
    st.markdown(f"**Why:** {feedback.get('explanation', item.explanation)}")
    if item.contested:
        st.caption(f"Where experts differ: {item.contested}")
