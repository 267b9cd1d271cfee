"""Stage 9, bench: training, inference, parallel, precision and search throughput measured side by side; `python -m
helpers.bench`.
"""
