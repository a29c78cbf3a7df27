"""Clerical review: CME officers decide uncertain pairs; ``link`` applies their decisions.

store.py      the decision store (SQLite in the job's workspace): events, undo, optimistic concurrency
apply.py      decisions as must-link / cannot-link constraints for clustering, and their effect
export.py     decisions as labels (pairs CSV, or a truth file that ``train --labels`` reads)
queue.py      the review queue of a link run, most consequential first
pair_view.py  one pair side by side: fields aligned, agreements, contributions in plain words
access.py     who may use the app: token or password, sessions, CSRF, which hosts to bind
app.py        the web app (FastAPI, server-rendered Jinja2 templates, assets served from here)
serve.py      loading a run and serving the app (``childlink review serve``)

Only store/apply/export are imported by linking; the web modules load when serving.
"""
