"""My agreement: kappa over time, per module and dimension, confusion, biases."""

from __future__ import annotations

import streamlit as st

from evaluator_cert.services import attempts, disputes
from evaluator_cert.services.trainee_stats import TraineeDashboard, trainee_dashboard
from evaluator_cert.ui import figures, state
from evaluator_cert.ui.trainee import measures_text

actor = state.require("trainee")
ctx = state.app()
catalog = ctx.catalog()
threshold = catalog.levels[0].drift_threshold


@st.cache_data(ttl=300, max_entries=256, show_spinner=False)
def load(user_id: int, answered: int, catalog_version: str) -> TraineeDashboard:
    # The key: a new answer changes ``answered``, a gold correction the catalog version.
    del user_id, answered, catalog_version
    with ctx.session() as session:
        return trainee_dashboard(session, actor, catalog)


with ctx.session() as session:
    answered = attempts.answered_count(session, actor.id)
    my_disputes = disputes.my_disputes(session, actor)
dash = load(actor.id, answered, catalog.version)

st.title("My agreement with the experts")
if dash.graded == 0:
    st.info("Answer practice items to see your agreement here.", icon=":material/monitoring:")
    st.page_link("app_pages/practice.py", label="Go to practice", icon=":material/edit_note:")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
c1.metric("Graded items", dash.graded)
c2.metric(
    "Rolling agreement",
    "n/a" if dash.rolling is None else f"{dash.rolling:.2f}",
    help=f"Over your last {catalog.levels[0].drift_window} graded practice items. "
    f"Below {threshold:.2f} starts remediation.",
)
consistent, pairs = dash.consistency
c3.metric(
    "Self-consistency",
    "n/a" if not pairs else f"{consistent}/{pairs}",
    help="Some items are served twice, unannounced: do you answer them the same way?",
)
c4.metric(
    "Cohort percentile",
    "n/a" if dash.percentile is None else f"{dash.percentile:.0%}",
    help="Share of the cohort whose mean module agreement is below yours.",
)

st.subheader("Agreement over time")
if dash.timeline.empty:
    st.caption("The timeline starts after 20 graded items.")
else:
    st.plotly_chart(figures.agreement_timeline(dash.timeline, threshold), key="timeline")

left, right = st.columns(2)
with left:
    st.subheader("By module")
    modules = dash.modules.dropna(subset=["agreement"])
    if modules.empty:
        st.caption("No module graded yet.")
    else:
        st.plotly_chart(
            figures.threshold_bars(modules, "agreement", "module", threshold), key="modules"
        )
with right:
    st.subheader("By dimension")
    dims = dash.dimensions.dropna(subset=["agreement"])
    unmeasured = sorted(set(dash.dimensions["dimension"]) - set(dims["dimension"]))
    if unmeasured:
        st.caption(
            f"No figure yet for {', '.join(unmeasured)}: every answer there agrees with gold "
            "in one single category so far, which leaves nothing to measure chance against."
        )
    if dims.empty:
        st.caption("Not enough answers per dimension yet.")
    else:
        fig = figures.threshold_bars(
            dims, "agreement", "dimension", threshold, group="kind", group_order=figures.KIND_ORDER
        )
        st.plotly_chart(fig, key="dims")
    measures = measures_text(dash.dimensions)
    if measures:
        st.caption(f"Measured in their own terms too: {measures}.")

left, right = st.columns(2)
with left:
    st.subheader("Your labels against gold")
    if not dash.confusions:
        st.caption("No labelling answers yet.")
    else:
        label_set = st.selectbox(
            "Label set",
            list(dash.confusions),
            help="Each task's labels in their own table, the set you answered most first.",
        )
        st.plotly_chart(
            figures.confusion_heatmap(dash.confusions[label_set]), key=f"confusion_{label_set}"
        )
with right:
    st.subheader("Weakest labels")
    if dash.weakest_labels.empty:
        st.caption("No labelling answers yet.")
    else:
        st.dataframe(
            dash.weakest_labels.head(8),
            hide_index=True,
            column_config={
                "recall": st.column_config.ProgressColumn(
                    format="percent", min_value=0, max_value=1
                )
            },
        )
    bias = dash.position_bias
    st.subheader("Position bias")
    if bias.n == 0:
        st.caption("No pairwise answers yet.")
    else:
        text = (
            f"You preferred the response shown first in {bias.first_preferred} of {bias.n} "
            f"pairwise choices ({bias.share_first:.0%})."
        )
        if bias.p_value is not None and bias.p_value < 0.05:
            st.warning(text + f" That is more than chance explains (p = {bias.p_value:.3f}).")
        else:
            st.write(text + " No sign of position bias.")

if not my_disputes.empty:
    st.subheader("My challenges to gold")
    st.dataframe(my_disputes, hide_index=True)
