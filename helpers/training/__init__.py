"""Stage 4, training: fine-tuning with the Trainer, run folders named by fingerprint, seeds in worker processes, the
method comparison; `python -m helpers.training` for torchrun.
"""
