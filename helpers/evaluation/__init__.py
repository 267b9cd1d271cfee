"""Stage 7, evaluation: the compared models, the choice on validation, statistics, calibration, error analysis and out-
of-domain text.
"""
