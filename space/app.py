"""Hugging Face Space entry point: the emotion-finetune demo on the model folder shipped beside this file.

The Space holds this file, space/requirements.txt and space/README.md, the project's helpers/ package, and a
trained model folder as model/ (see "Try it: the demo" in the project's README). $EMOTION_MODEL, set in the
Space's settings, points at another folder instead.
"""

import os
from pathlib import Path

from helpers.serving.demo import MODEL_ENV, build_app, load_demo

SHIPPED = Path(__file__).resolve().parent / "model"
if SHIPPED.is_dir():
    os.environ.setdefault(MODEL_ENV, str(SHIPPED))

demo = build_app(load_demo(None))

if __name__ == "__main__":
    demo.launch()  # a Space sets GRADIO_SERVER_NAME=0.0.0.0 and the port
