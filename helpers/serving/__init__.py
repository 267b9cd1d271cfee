"""Stage 6, serving: the classifier on its back ends, ONNX export and quantisation, explanations, the command line and
the demo; `python -m helpers.serving` predicts.
"""
