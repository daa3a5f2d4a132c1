"""Audit trail (administrators): who signed in, imported, rebuilt or merged suppliers, when, from where."""

import streamlit as st

from starviz import auth, tables, ui

scope = ui.require("audit")
st.title("Audit trail")
st.caption("Sign-ins (and failed ones), log-outs, imports, rebuilds and supplier decisions, newest first. Never a password.")
chosen = ui.url_value(
    st.multiselect,
    "Actions",
    "actions",
    key="audit_actions",
    default=[],
    many=True,
    options=list(auth.AUDIT_ACTIONS),
    placeholder="All actions",
)
trail = auth.audit_trail(actions=chosen)
tables.table(
    trail,
    {
        "at": st.column_config.DatetimeColumn("When (UK time)", format="D MMM YYYY HH:mm:ss"),
        "username": "Who",
        "action": "What",
        "detail": "Detail",
        "client": "From",
    },
)
ui.export_buttons("audit-trail", trail, scope)
