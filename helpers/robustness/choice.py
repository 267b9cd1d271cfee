"""The model chosen for use: good in domain, and the best of those on text as people write it.

Stated before any test score is read, and applied to validation and OOD-dev numbers only: among the
candidates whose in-domain validation accuracy is within `tolerance_points` of the best candidate's, the one
with the best OOD-dev macro F1. In-domain accuracy alone picked the configuration that is worst out of domain;
OOD-dev alone could pick a model that gave up the data set it is trained for. Macro F1, since the six emotions
are far from balanced in real comments and accuracy would reward a model that answers the common ones.
"""

from __future__ import annotations

from typing import Any

TOLERANCE_POINTS = 0.5
"""How far below the best in-domain validation accuracy a model may be and still be chosen, in points."""


def choose_for_use(
    validation_accuracy: dict[str, float],
    ood_dev_f1_macro: dict[str, float],
    tolerance_points: float = TOLERANCE_POINTS,
) -> dict[str, Any]:
    """{name, rule, eligible, ...}: the candidate the rule picks; ties go to the first listed candidate."""
    if validation_accuracy.keys() != ood_dev_f1_macro.keys() or not validation_accuracy:
        raise ValueError(
            "every candidate needs both scores: "
            f"validation {sorted(validation_accuracy)}, OOD-dev {sorted(ood_dev_f1_macro)}"
        )
    names = list(validation_accuracy)
    best_in_domain = max(validation_accuracy.values())
    floor = best_in_domain - tolerance_points / 100
    eligible = [name for name in names if validation_accuracy[name] >= floor - 1e-12]
    chosen = max(eligible, key=lambda name: (ood_dev_f1_macro[name], -names.index(name)))
    return {
        "name": chosen,
        "tolerance_points": tolerance_points,
        "best_validation_accuracy": best_in_domain,
        "validation_accuracy_floor": floor,
        "eligible": eligible,
        "candidates": {
            name: {"validation_accuracy": validation_accuracy[name], "ood_dev_f1_macro": ood_dev_f1_macro[name]}
            for name in names
        },
    }
