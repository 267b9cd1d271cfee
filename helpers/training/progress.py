"""What a training run shows while it runs, where nobody watches a progress bar."""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback


class EpochReport(TrainerCallback):
    """One printed line per evaluation: all the progress a headless run shows, since the Trainer's own bar is
    drawn only where someone watches (`helpers.notebook.show_progress`)."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.started = time.perf_counter()

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, float], **kwargs: Any) -> None:
        if not state.is_world_process_zero:  # every process of a distributed run sees the same gathered scores
            return
        minutes = (time.perf_counter() - self.started) / 60
        print(
            f"epoch {state.epoch:g}/{args.num_train_epochs:g}: validation loss {metrics['eval_loss']:.4f}, "
            f"accuracy {metrics['eval_accuracy']:.4f}, {self.metric} {metrics[f'eval_{self.metric}']:.4f} "
            f"({minutes:.1f} min)",
            flush=True,
        )
