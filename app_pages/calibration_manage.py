"""Calibration sessions (instructor): create, study the spread, note, adjudicate, publish."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from evaluator_cert.services import calibration, cohort
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.instructor import fmt, table
from evaluator_cert.ui.notices import flash, form_key, reset_form
from evaluator_cert.ui.widgets import gold_text

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()

st.title("Calibration sessions")

with st.expander("New session", icon=":material/add:"):
    level_id = st.selectbox("Level", [lv.id for lv in catalog.levels], key="new_level")
    batch = [i.id for i in catalog.calibration_batch(level_id)]
    with ctx.session() as session:
        groups = cohort.cohort_names(session, actor)
        everyone = cohort.cohort_frame(session, actor, catalog)
    new_form = form_key("new_session")
    with st.form(new_form):
        title = st.text_input(
            "Title",
            placeholder="Week 12: harmful-advice edge cases",
            max_chars=200,
            key=f"{new_form}_title",
        )
        chosen = st.multiselect(
            "Items (none chosen: the whole batch)", batch, key=f"{new_form}_items"
        )
        group = st.selectbox(
            "Cohort (required, unless you pick trainees below)",
            [None, *groups],
            format_func=lambda g: g or "—",
            key=f"{new_form}_cohort",
        )
        names = dict(zip(everyone["user_id"], everyone["trainee"], strict=True))
        picked = st.multiselect(
            "…or pick trainees", list(names), format_func=names.get, key=f"{new_form}_trainees"
        )
        create = st.form_submit_button("Create session", type="primary")
    if create:
        with user_errors(), ctx.session() as session:
            sid = calibration.create_session(
                session,
                actor,
                catalog,
                level_id=level_id,
                title=title,
                item_ids=chosen or None,
                cohort=group,
                user_ids=picked or None,
            )
            st.session_state["calibration_session"] = sid
            flash(f"Session {sid} created: {title.strip()}.")
            reset_form("new_session")  # an empty form, so a second click cannot duplicate it
            st.rerun()

with ctx.session() as session:
    sessions = calibration.sessions_frame(session, actor)
    trend = calibration.alpha_trend(session, actor, catalog)

if sessions.empty:
    st.info("No calibration session yet.")
    st.stop()

st.subheader("Sessions")
table(sessions, "sessions", filters=("status", "level"), file_name="calibration_sessions.csv")

st.subheader("Agreement across sessions")
if len(trend) < 2:
    st.caption("The trend appears once two sessions that trainees answered are published.")
else:
    # One point per published session, on a categorical axis in publishing order.
    trend = trend.assign(
        when=pd.to_datetime(trend["published"], utc=True).dt.strftime("%Y-%m-%d"),
        point=trend["title"].where(
            ~trend["title"].duplicated(keep=False),
            trend["title"] + " (#" + trend["session"].astype(str) + ")",
        ),
    ).rename(columns={"alpha_nominal": "nominal", "alpha_interval": "interval"})
    long = trend.melt(
        id_vars=["point", "when"],
        value_vars=["nominal", "interval"],
        var_name="alpha",
        value_name="value",
    ).dropna(subset=["value"])
    fig = px.line(
        long,
        x="point",
        y="value",
        color="alpha",
        markers=True,
        hover_data={"when": True},
        labels={"point": "session", "when": "published", "alpha": "Krippendorff's alpha"},
    )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=trend["point"])
    fig.update_layout(height=280, margin={"t": 20, "b": 20}, yaxis_title="Krippendorff's alpha")
    st.plotly_chart(fig, key="alpha_trend")

ids = sessions["id"].tolist()
wanted = st.session_state.get("calibration_session")
sid = st.selectbox(
    "Session",
    ids,
    index=ids.index(wanted) if wanted in ids else 0,
    format_func=lambda i: f"{i}: {sessions.set_index('id').loc[i, 'title']}",
)
st.session_state["calibration_session"] = sid

with ctx.session() as session:
    results = calibration.session_results(session, actor, catalog, int(sid))

st.header(results.title)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Status", results.status)
c2.metric("Trainees answered", results.trainees)
c3.metric("Alpha (labels, nominal)", fmt(results.alpha_nominal, 3))
c4.metric("Alpha (ratings, interval)", fmt(results.alpha_interval, 3))

if results.units.empty and results.status == "published":
    st.info("Nobody answered this session.")
elif results.units.empty:
    st.info("No answers yet. Trainees find the session on their Calibration page.")
else:
    st.subheader("Items by disagreement")
    top = results.units.head(20).assign(label=lambda f: f["item"] + " " + f["unit"])
    fig = px.bar(
        top,
        x="disagreement",
        y="label",
        orientation="h",
        hover_data=["distribution", "expert"],
        color="agree_with_expert",
        color_continuous_scale="RdYlGn",
        range_color=[0, 1],
    )
    fig.update_layout(
        height=120 + 24 * len(top), margin={"t": 20, "b": 20}, yaxis={"autorange": "reversed"}
    )
    st.plotly_chart(fig, key="disagreement")
    table(results.units, "units", filters=("item",), file_name=f"calibration_{sid}.csv")

st.subheader("Discussion notes")
session_items = sorted(set(results.units["item"])) if not results.units.empty else []
cal_items = [i.id for i in catalog.calibration_batch(results.level_id)]
note_item = st.selectbox("Item", session_items or cal_items, key="note_item")
item = catalog.item(note_item)
st.markdown(gold_text(item))
existing = results.notes.get(note_item, {})
with st.form("note"):
    note = st.text_area("Note for the trainees", existing.get("note", ""), max_chars=4000)
    options = ["(expert gold stands)"]
    if hasattr(item, "labels"):
        options += list(item.labels)  # type: ignore[union-attr]
    elif hasattr(item, "choices"):
        options += list(item.choices)  # type: ignore[union-attr]
    adjudicated = st.selectbox("Adjudicated label", options)
    if st.form_submit_button("Save note"):
        with user_errors(), ctx.session() as session:
            calibration.save_note(
                session,
                actor,
                catalog,
                int(sid),
                note_item,
                note,
                None if adjudicated == options[0] else adjudicated,
            )
            flash(f"Note on {note_item} saved.")
            st.rerun()
if results.notes:
    st.dataframe(
        [
            {"item": k, "note": v["note"], "adjudicated": (v["adjudicated"] or {}).get("gold")}
            for k, v in results.notes.items()
        ],
        hide_index=True,
    )

if results.status == "published":
    st.success("Published: each participant sees their answers, the expert's and your notes.")
elif results.units.empty:
    st.caption("Publishing becomes possible once trainees have answered.")
else:
    confirmed = st.checkbox(
        "I understand publishing closes the session to answers and shows every participant "
        "the expert answers and the notes.",
        key=f"publish_confirm_{sid}",
    )
    if st.button(
        "Publish results to the trainees", type="primary", key="publish", disabled=not confirmed
    ):
        with user_errors(), ctx.session() as session:
            calibration.publish(session, actor, int(sid))
            flash(f"Session {sid} published.")
            st.rerun()
