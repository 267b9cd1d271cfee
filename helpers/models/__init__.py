"""Stage 2, models: building an encoder with its classification head, the training methods (full, LoRA, head only),
saved model folders and batched logits.
"""
