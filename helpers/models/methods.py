"""Training methods beside full fine-tuning: LoRA adapters (through `peft`) and the classification head alone.

All three share one definition of the head: the modules the classifier adds on top of the encoder (BERT's
pooler and classifier, DistilBERT's pre-classifier and classifier). The head is trained by every method;
`head` trains nothing else, `lora` adds low-rank adapters to the encoder's projections, `full` trains all.

A LoRA run saves its adapter (the low-rank matrices and the head), not the model. Beside it,
`base_model.json` names the encoder it was trained on and a hash of that encoder's weights, so that loading
the adapter onto another encoder fails with both names instead of predicting nonsense.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel
from transformers.utils import logging

from helpers.models.building import ID2LABEL, LABEL2ID, resolve_model_source
from helpers.profiles import TINY_MODEL, Profile

ADAPTER_CONFIG = "adapter_config.json"
BASE_RECORD = "base_model.json"
"""Written beside a saved adapter: the base model's name or path and the hash of its encoder weights."""
SAVED_BASE = "base"
"""Sub-folder of an adapter folder holding the base model, for bases that no name can load again (the tiny
random test model)."""
LORA_SETTINGS = ("lora_rank", "lora_alpha", "lora_dropout", "lora_target_modules")
"""Settings that shape a run only when its method is `lora`."""


class AdapterBaseError(ValueError):
    """An adapter folder whose base model cannot be found, or is not the one the adapter was trained on."""


def head_modules(model: PreTrainedModel) -> list[str]:
    """The names of the modules on top of the encoder: the classifier's own, plus the encoder's pooler if any."""
    base = model.base_model_prefix
    names = [
        name for name, child in model.named_children() if name != base and next(child.parameters(), None) is not None
    ]
    if getattr(model.base_model, "pooler", None) is not None:
        names.append("pooler")
    return names


def linear_module_names(model: PreTrainedModel) -> list[str]:
    """The short names of the encoder's linear layers: what LoRA's `target_modules` may name."""
    names = set()
    for name, module in model.base_model.named_modules():
        if isinstance(module, torch.nn.Linear) and not name.startswith("pooler"):
            names.add(name.rsplit(".", 1)[-1])
    return sorted(names)


def target_modules(model: PreTrainedModel, requested: tuple[str, ...]) -> list[str]:
    """The modules to adapt: `requested`, each checked against the model's linear layers, or by default the
    attention query and value projections that `peft` adapts for this model type."""
    # loaded late on purpose: peft is needed only for LoRA models, and costs a second to import
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as DEFAULTS

    valid = linear_module_names(model)
    if not requested:
        default = DEFAULTS.get(model.config.model_type)
        if default is None:
            raise ValueError(
                f"no default LoRA target modules for model type {model.config.model_type!r}; set "
                f"lora_target_modules to some of {valid}"
            )
        return list(default)
    unknown = [name for name in requested if name not in valid]
    if unknown:
        raise ValueError(
            f"profile setting 'lora_target_modules': unknown module(s) {unknown} in {model.config.model_type!r}; "
            f"valid modules are {valid}"
        )
    return list(requested)


def apply_method(model: PreTrainedModel, profile: Profile) -> torch.nn.Module:
    """`model` ready to train by `profile.method`: unchanged for `full`, with everything but the head frozen for
    `head`, wrapped in `peft` LoRA adapters (the head trained in full) for `lora`."""
    if profile.method == "full":
        return model
    head = head_modules(model)
    if profile.method == "head":
        for name, parameter in model.named_parameters():
            parameter.requires_grad = _in_head(name, model.base_model_prefix, head)
        return model
    # loaded late on purpose: peft is needed only for LoRA models, and costs a second to import
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=profile.lora_rank,
        lora_alpha=profile.lora_alpha,
        lora_dropout=profile.lora_dropout,
        target_modules=target_modules(model, profile.lora_target_modules),
        modules_to_save=head,
    )
    with warnings.catch_warnings():  # peft 0.21 asks transformers a deprecated question; nothing for us to change
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, config)


def _in_head(name: str, base_prefix: str, head: list[str]) -> bool:
    first, _, rest = name.partition(".")
    if first == base_prefix:
        return rest.split(".", 1)[0] in head
    return first in head


def parameter_counts(model: torch.nn.Module) -> dict[str, int]:
    """Trainable and total parameters. A LoRA model counts the frozen encoder, the adapters and the head once:
    peft keeps the head's pre-trained original beside the trained copy, and the original is left out."""
    counted = [p for name, p in model.named_parameters() if ".original_module." not in name]
    return {"trainable": sum(p.numel() for p in counted if p.requires_grad), "total": sum(p.numel() for p in counted)}


def encoder_digest(model: PreTrainedModel) -> str:
    """A hash of the encoder's pre-trained weights (without the head, which an adapter brings along)."""
    head = head_modules(model)
    digest = hashlib.sha256()
    for name, tensor in sorted(model.base_model.state_dict().items()):
        if name.split(".", 1)[0] in head:
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().to(torch.float32).cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def save_base_record(model: PreTrainedModel, profile: Profile, folder: Path) -> Path:
    """Name the base beside a saved adapter; a base that no name can load again is saved with it."""
    folder.mkdir(parents=True, exist_ok=True)
    source = profile.model_name_or_path
    if Path(source).expanduser().is_dir():  # a local base: found again from wherever the adapter is loaded
        source = str(Path(source).expanduser().resolve())
    if source == TINY_MODEL:
        model.save_pretrained(folder / SAVED_BASE)
        source = SAVED_BASE
    path = folder / BASE_RECORD
    record = {"model": source, "encoder_sha256": encoder_digest(model)}
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def is_adapter_folder(folder: Path) -> bool:
    """Whether `folder` holds a `peft` adapter rather than a whole model."""
    return (folder / ADAPTER_CONFIG).is_file()


def load_adapter_model(
    folder: Path, base: str | Path | None = None, merge: bool = True
) -> PreTrainedModel | torch.nn.Module:
    """The classifier saved as an adapter in `folder`, on its base model (`base`, else the one its record names):
    a plain `PreTrainedModel` with `merge` (what inference and ONNX export want), else the `PeftModel`."""
    # loaded late on purpose: peft is needed only for LoRA models, and costs a second to import
    from peft import PeftModel

    record_path = folder / BASE_RECORD
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    if not record:
        warnings.warn(
            f"{folder}: no {BASE_RECORD}; loading the base its adapter_config.json names, unchecked", stacklevel=2
        )
    named = record.get("model") or json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8")).get(
        "base_model_name_or_path"
    )
    source = str(base) if base is not None else str(folder / named) if named == SAVED_BASE else named
    if not source:
        raise AdapterBaseError(f"{folder}: adapter folder that names no base model; pass the base model's folder")
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # the base's head is new here; the adapter replaces it
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            resolve_model_source(source), num_labels=len(ID2LABEL), id2label=ID2LABEL, label2id=LABEL2ID
        )
    except (OSError, ValueError) as error:
        where = "" if source == named else f" (looked for at {source})"
        raise AdapterBaseError(
            f"{folder}: the adapter's base model {named!r}{where} cannot be loaded here ({error}); pass the base "
            "model's folder (the CLI's --base)"
        ) from None
    finally:
        logging.set_verbosity(verbosity)
    expected = record.get("encoder_sha256")
    if expected is not None and encoder_digest(model) != expected:
        raise AdapterBaseError(
            f"{folder}: the adapter was trained on base model {named!r} (encoder {expected}), but {source!r} has "
            f"other weights (encoder {encoder_digest(model)}); load it with the base it was trained on"
        )
    adapted = PeftModel.from_pretrained(model, folder)
    return adapted.merge_and_unload() if merge else adapted


def saved_size(folder: Path) -> int:
    """Bytes of what a run adds to keep it and predict again: weights or adapter, config and tokenizer; neither
    the ONNX cache nor the base model that an adapter of the tiny test model keeps beside it."""
    skipped = {"onnx-cache", SAVED_BASE}
    return sum(
        path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file() and not skipped & set(path.relative_to(folder).parts)
    )
