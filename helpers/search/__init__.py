"""Stage 5, search: the Optuna study, its storage (SQLite or PostgreSQL), its summary; `python -m helpers.search` runs
a worker.
"""
