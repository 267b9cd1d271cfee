"""Stage 8, reporting: the written report from a run's artifacts, the notebooks as pages, the PDF and the model card;
`python -m helpers.reporting` writes them.
"""
