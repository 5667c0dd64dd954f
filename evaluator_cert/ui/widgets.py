"""One answer widget per task type, and the feedback shown after an answer.

Each widget renders the item's material and a form; it returns the answer dict (the shape
``evaluator_cert.grading`` grades) when the trainee submits a complete answer, else None.
Nothing here shows gold: ``show_feedback`` is called only with a saved, graded answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
# How the gold line and the trainee's line start, per task type.
GOLD_LINES = {
    "classification": "Gold label",
    "rubric_rating": "Gold ratings",
    "pairwise": "Gold",
    "ranking": "Gold ranking",
    "justification": "Gold choice",
    "fact_check": "Gold verdicts",
    "span": "Gold spans",
    "bounding_box": "Gold boxes",
    "transcription": "Gold transcript",
}
YOUR_LINES = {
    "classification": "Your label",
    "rubric_rating": "Your ratings",
    "pairwise": "Your choice",
    "ranking": "Your ranking",
    "justification": "Your choice",
    "fact_check": "Your verdicts",
    "span": "Your spans",
    "bounding_box": "Your boxes",
    "transcription": "Your transcript",
}
EXCERPT_WORDS = 40
YOUR_COLOUR = "#e8590c"
GOLD_COLOUR = "#2f9e44"
BOX_CORNERS = ("x0", "y0", "x1", "y1")
# Streamlit maps a pill selection back to its option by the option's label, so two pills
# labelled alike collapse into one; a repeated word gets this (invisible) suffix per repeat.
_REPEAT_MARK = "\u200b"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_$\[\]~])")


def humanise(label: str) -> str:
    """A stored label as people read it (``billing_issue`` -> ``billing issue``)."""
    return label.replace("_", " ")


def escape_markdown(text: str) -> str:
    """Text from content or answers, safe inside st.markdown (``$`` would start maths)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


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
        label = st.radio(
            "Your label",
            item.labels,
            format_func=humanise,
            index=None,
            horizontal=True,
            key=f"{key}_l",
        )
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
            # One anchor per line: the tooltip renders markdown, where "  \n" breaks a line.
            help_text = "  \n".join(f"{k}: {v}" for k, v in sorted(anchors.items())) or None
            ratings[dim] = st.radio(
                humanise(dim).capitalize(),
                item.scale,
                index=None,
                horizontal=True,
                help=help_text,
                key=f"{key}_{dim}",
            )
        if _submit():
            missing = [d for d, v in ratings.items() if v is None]
            if missing:
                open_dims = ", ".join(humanise(d) for d in missing)
                st.warning(f"Rate every dimension: {open_dims} still open.")
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
        choice = st.radio(
            item.question,
            item.choices,
            format_func=humanise,
            index=None,
            horizontal=True,
            key=f"{key}_c",
        )
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


def token_option_labels(tokens: Sequence[str]) -> list[str]:
    """One distinct label per token that reads as the token: a repeated word (the second
    "Canberra") is marked invisibly, so each occurrence stays a separate choice."""
    seen: Counter[str] = Counter()
    labels = []
    for token in tokens:
        labels.append(token + _REPEAT_MARK * seen[token])
        seen[token] += 1
    return labels


def _span(item: SpanItem, seed: int, media: MediaResolver, key: str) -> Any:
    token_labels = token_option_labels([t.text for t in tokenize(item.text)])
    _quote("Text", item.text)
    st.caption(
        "Select the tokens of each span under its label; neighbouring tokens join into one "
        "span. Submit with nothing selected if there is nothing to mark."
    )
    with st.form(key):
        selected: dict[str, list[int]] = {}
        for label in item.labels:
            selected[label] = st.pills(
                humanise(label),
                list(range(len(token_labels))),
                format_func=lambda i: token_labels[i],
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


@dataclass(frozen=True)
class BoxLayer:
    """One set of boxes drawn over the image: ``{"label": ..., "box": [x0, y0, x1, y1]}``."""

    name: str  # the legend entry
    colour: str
    boxes: Sequence[Mapping[str, Any]]
    dash: str = "solid"


def box_figure(image_path: Path, width: int, height: int, layers: Sequence[BoxLayer]) -> go.Figure:
    """The image with each layer's boxes over it, in image pixel coordinates (y downwards);
    a legend names the layers when there is more than one."""
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
    fig.add_trace(
        go.Scatter(
            x=xs, y=ys, mode="markers", marker={"opacity": 0}, hoverinfo="skip", showlegend=False
        )
    )
    for layer in layers:
        line = {"color": layer.colour, "width": 2, "dash": layer.dash}
        # A legend entry even for an empty layer ("your boxes": none drawn).
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="lines", line=line, name=layer.name, legendgroup=layer.name
            )
        )
        for box in layer.boxes:
            x0, y0, x1, y1 = box["box"]
            # Outlines as traces, not shapes, so the legend can show and hide a layer.
            fig.add_trace(
                go.Scatter(
                    x=[x0, x1, x1, x0, x0],
                    y=[y0, y0, y1, y1, y0],
                    mode="lines",
                    line=line,
                    legendgroup=layer.name,
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
            fig.add_annotation(
                x=x0,
                y=y0,
                text=humanise(str(box["label"])),
                showarrow=False,
                yshift=8,
                font={"color": layer.colour},
                xanchor="left",
            )
    fig.update_xaxes(range=[0, width], showgrid=False, visible=False)
    fig.update_yaxes(range=[height, 0], showgrid=False, visible=False, scaleanchor="x")
    with_legend = len(layers) > 1
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 30 if with_legend else 0, "b": 0},
        dragmode="select",
        height=int(height * 1.2),
        showlegend=with_legend,
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
    )
    return fig


def selected_box(event: Any, width: int, height: int) -> list[int] | None:
    """The last box dragged on the chart, as whole pixels inside the image, if any."""
    selection = (event.get("selection") if isinstance(event, Mapping) else None) or {}
    drawn = None
    for sel in selection.get("box", []) if isinstance(selection, Mapping) else []:
        xs, ys = sel.get("x", []), sel.get("y", [])
        if len(xs) == 2 and len(ys) == 2:
            x0, x1 = (min(max(0, round(v)), width) for v in sorted(xs))
            y0, y1 = (min(max(0, round(v)), height) for v in sorted(ys))
            drawn = [x0, y0, x1, y1]
    return drawn


def _bounding_box(item: BoundingBoxItem, seed: int, media: MediaResolver, key: str) -> Any:
    state_key = f"{key}_boxes"
    boxes: list[dict[str, Any]] = st.session_state.setdefault(state_key, [])
    event = st.plotly_chart(
        box_figure(
            media(item.image), item.width, item.height, [BoxLayer("Your boxes", YOUR_COLOUR, boxes)]
        ),
        on_select="rerun",
        selection_mode="box",
        key=f"{key}_chart",
        config={"displayModeBar": True, "modeBarButtonsToRemove": ["lasso2d"]},
    )
    # A keyed number input ignores value= once it exists, so a new drag is written into the
    # inputs' state before they render. Only a new one: the selection outlives reruns, and
    # corners typed after a drag must stick.
    drawn_key = f"{key}_drawn"
    drawn = selected_box(event, item.width, item.height)
    if drawn is None:
        st.session_state.pop(drawn_key, None)
    elif drawn != st.session_state.get(drawn_key):
        st.session_state[drawn_key] = drawn
        for corner, value in zip(BOX_CORNERS, drawn, strict=True):
            st.session_state[f"{key}_{corner}"] = value
    st.caption(
        "Drag on the image (box select) to draw, or type the corners; pick the label and add "
        "the box. Coordinates are image pixels from the top-left corner."
    )
    with st.form(f"{key}_add", border=True):
        c = st.columns([2, 1, 1, 1, 1])
        label = c[0].selectbox("Label", item.labels, format_func=humanise, key=f"{key}_label")
        limits = {"x0": item.width, "y0": item.height, "x1": item.width, "y1": item.height}
        corners = {
            corner: col.number_input(
                corner, min_value=0, max_value=limits[corner], key=f"{key}_{corner}"
            )
            for col, corner in zip(c[1:], BOX_CORNERS, strict=True)
        }
        x0, y0, x1, y1 = (corners[corner] for corner in BOX_CORNERS)
        if st.form_submit_button("Add box"):
            if x1 <= x0 or y1 <= y0:
                st.warning("A box needs x1 > x0 and y1 > y0.")
            else:
                boxes.append({"label": label, "box": [float(x0), float(y0), float(x1), float(y1)]})
                st.rerun()
    for i, box in enumerate(boxes):
        c1, c2 = st.columns([5, 1])
        c1.write(f"{i + 1}. **{humanise(box['label'])}** at {[round(v) for v in box['box']]}")
        if c2.button("Remove", key=f"{key}_rm_{i}"):
            boxes.pop(i)
            st.rerun()
    if st.button("Submit answer", type="primary", key=f"{key}_submit"):
        answer = {"boxes": list(boxes)}
        st.session_state.pop(state_key, None)
        st.session_state.pop(drawn_key, None)
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


def gold_answer(item: Item) -> dict[str, Any]:
    """The item's gold in the shape of an answer, so gold and answers read alike."""
    match item:
        case ClassificationItem():
            return {"label": item.gold}
        case RubricRatingItem():
            return {"ratings": dict(item.gold)}
        case PairwiseItem() | JustificationItem():
            return {"choice": item.gold}
        case RankingItem():
            return {"order": list(item.gold)}
        case FactCheckItem():
            return {"verdicts": {c.id: c.gold for c in item.claims}}
        case SpanItem():
            return {
                "spans": [{"start": s, "end": e, "label": lbl} for s, e, lbl in item.gold_spans]
            }
        case BoundingBoxItem():
            return {"boxes": [{"label": b.label, "box": list(b.box)} for b in item.gold]}
        case TranscriptionItem():
            return {"text": item.gold}
    return {}


def choice_text(item: Item, choice: str) -> str:
    """One label or choice of an item in words (a pairwise choice names the response)."""
    if isinstance(item, PairwiseItem):
        return "tie" if choice == "tie" else f"Response {choice}"
    return humanise(choice)


def _phrase(text: str, start: Any, end: Any) -> str:
    """The item text covered by tokens ``start``..``end`` (exclusive), as written (line
    breaks read as spaces)."""
    tokens = tokenize(text)
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(tokens)):
        return "?"
    return " ".join(text[tokens[start].start : tokens[end - 1].end].split())


def excerpt(text: str, words: int = EXCERPT_WORDS) -> str:
    """The first ``words`` words of a free-text answer."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def answer_text(item: Item, answer: Mapping[str, Any]) -> str:
    """An answer (the shape the graders take, or ``gold_answer``) in plain words.

    Tolerant of incomplete answers: whatever is missing reads as "no answer"."""
    missing = "no answer"
    match item:
        case ClassificationItem():
            return humanise(str(answer["label"])) if "label" in answer else missing
        case RubricRatingItem():
            ratings = answer.get("ratings") or {}
            rated = [f"{humanise(d)} {ratings[d]}" for d in item.dimensions if d in ratings]
            return ", ".join(rated) or missing
        case PairwiseItem() | JustificationItem():
            return choice_text(item, str(answer["choice"])) if "choice" in answer else missing
        case RankingItem():
            return " > ".join(str(r) for r in answer.get("order") or ()) or missing
        case FactCheckItem():
            verdicts = answer.get("verdicts") or {}
            return "; ".join(
                f"“{c.text}” {VERDICT_LABELS.get(verdicts.get(c.id), 'no verdict')}"
                for c in item.claims
            )
        case SpanItem():
            spans = [s for s in answer.get("spans") or () if isinstance(s, Mapping)]
            return (
                ", ".join(
                    f"“{_phrase(item.text, s.get('start', -1), s.get('end', -1))}” "
                    f"{humanise(str(s.get('label', '')))}"
                    for s in spans
                )
                or "nothing marked"
            )
        case BoundingBoxItem():
            boxes = [b for b in answer.get("boxes") or () if isinstance(b, Mapping)]
            return (
                ", ".join(
                    f"{humanise(str(b.get('label', '')))} {[round(v) for v in b.get('box', ())]}"
                    for b in boxes
                )
                or "no boxes"
            )
        case TranscriptionItem():
            return f"“{answer['text']}”" if "text" in answer else missing
    return missing


def gold_text(item: Item) -> str:
    """The gold answer in words, as markdown (shown only after the trainee has answered)."""
    words = escape_markdown(answer_text(item, gold_answer(item)))
    return f"{GOLD_LINES[item.type]}: **{words}**"


def published_expert_text(item: Item, expert: str) -> str:
    """The expert answer a calibration session publishes, in words: the instructor's
    adjudicated label when there is one (always one of the item's labels or choices),
    else the item's gold."""
    options = getattr(item, "labels", None) or getattr(item, "choices", None) or ()
    if expert in options:
        return choice_text(item, expert)
    return answer_text(item, gold_answer(item))


def _show_your_answer(item: Item, answer: Mapping[str, Any], media: MediaResolver) -> None:
    """The trainee's own answer, worded or drawn like the gold beside it."""
    line = YOUR_LINES[item.type]
    match item:
        case RubricRatingItem():
            yours = answer.get("ratings") or {}
            st.dataframe(
                [
                    {
                        "dimension": humanise(d),
                        "yours": yours.get(d),
                        "gold": g,
                        "difference": (yours.get(d) or 0) - g,
                    }
                    for d, g in item.gold.items()
                ],
                hide_index=True,
            )
        case FactCheckItem():
            verdicts = answer.get("verdicts") or {}
            for claim in item.claims:
                given = verdicts.get(claim.id)
                mark = "✅" if given == claim.gold else "❌"
                note = f" — {escape_markdown(claim.note)}" if claim.note else ""
                st.markdown(
                    f"{mark} “{escape_markdown(claim.text)}” — yours "
                    f"**{VERDICT_LABELS.get(given, 'no verdict')}**, gold "
                    f"**{VERDICT_LABELS[claim.gold]}**{note}"
                )
        case JustificationItem():
            st.markdown(f"{line}: **{escape_markdown(answer_text(item, answer))}**")
            # The trainee's own words: plain text, never interpreted as markdown.
            st.caption("Your justification (the start)")
            st.text(excerpt(str(answer.get("text", ""))))
        case TranscriptionItem():
            st.caption(line)
            st.text(str(answer.get("text", "")))
        case _:
            st.markdown(f"{line}: **{escape_markdown(answer_text(item, answer))}**")
    if isinstance(item, PairwiseItem) and answer.get("shown_first") in item.responses:
        # The trainee saw the pair as "Response 1 / 2"; gold and explanation use the letters.
        first = answer["shown_first"]
        second = next(r for r in item.responses if r != first)
        st.caption(
            f"You saw Response {first} as Response 1 and Response {second} as Response 2 "
            "(the explanation uses the letters)."
        )
    if isinstance(item, BoundingBoxItem):
        gold = gold_answer(item)["boxes"]
        yours = [b for b in answer.get("boxes") or () if isinstance(b, Mapping)]
        layers = [
            BoxLayer("Gold boxes", GOLD_COLOUR, gold),
            BoxLayer("Your boxes", YOUR_COLOUR, yours, dash="dash"),
        ]
        st.plotly_chart(
            box_figure(media(item.image), item.width, item.height, layers), key=f"fb_{item.id}"
        )


def show_feedback(item: Item, view: AnswerView, media: MediaResolver) -> None:
    """Right or wrong, the gold next to the trainee's answer, the expert's explanation and
    what was missed."""
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
    _show_your_answer(item, view.answer, media)
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
