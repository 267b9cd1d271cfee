"""The robustness section's facts, from notebook 08's results beside notebook 05's: every figure computed."""

from __future__ import annotations

from typing import Any

from helpers.robustness.behaviour import INTENSIFIER_TOLERANCE, INVARIANCE_TEXTS

GOALS = (
    ("OOD-test accuracy of the served model", "ood_test", "accuracy", 0.75),
    ("OOD-test macro F1 of the served model", "ood_test", "f1_macro", 0.70),
    ("hand-written test accuracy of the served model", "handwritten_test", "accuracy", 0.75),
)
"""The issue's goals, each a test set, a metric and the value to reach."""

FLIP_GOALS = (
    ("label flips of the served model when a full stop is added", "a full stop added", 0.01),
    ("label flips of the served model under sentence case", "sentence case", 0.01),
    (
        "label flips of the served model when the \u201ci feel\u201d opening is dropped",
        "the \u201ci feel\u201d opening dropped",
        0.03,
    ),
)
"""The issue's behaviour goals: an invariance test of the suite and the largest share of flips to allow."""

IN_DOMAIN_SLACK = 0.005
"""The last goal: in-domain test accuracy at most half a point below notebook 05's chosen model."""


def robustness_facts(a: dict[str, Any]) -> dict[str, Any]:
    r = a["robustness"]
    chosen, served = r.choice["name"], r.served["model"]
    in_domain_choice = a["metrics"].chosen["name"]
    in_domain_test = r.test[in_domain_choice]["test"]["accuracy"]
    rows = [
        {
            "name": name,
            "chosen": name == chosen,
            "validation_accuracy": r.validation[name]["validation"]["accuracy"],
            "ood_dev_f1_macro": r.validation[name]["ood_dev_all"]["f1_macro"],
            **r.test[name],
        }
        for name in sorted(r.test, key=lambda n: (n != chosen, -r.validation[n]["ood_dev_all"]["f1_macro"]))
    ]
    goals = [
        {"what": what, "value": r.test[served][split][metric], "target": target, "at_least": True,
         "met": r.test[served][split][metric] >= target}
        for what, split, metric, target in GOALS
    ]  # fmt: skip
    served_test = r.test[served]["test"]["accuracy"]
    goals.append(
        {
            "what": f"in-domain test accuracy of the served model, against {in_domain_test:.4f} less half a point",
            "value": served_test,
            "target": in_domain_test - IN_DOMAIN_SLACK,
            "at_least": True,
            "met": served_test >= in_domain_test - IN_DOMAIN_SLACK,
        }
    )
    if served in r.behaviour:
        flips = {test["name"]: test["failure_rate"] for test in r.behaviour[served]["tests"]}
        goals += [
            {"what": what, "value": flips[test], "target": most, "at_least": False, "met": flips[test] <= most}
            for what, test, most in FLIP_GOALS
        ]
    models = list(r.behaviour)
    tests = r.behaviour[models[0]]["tests"] if models else []
    behaviour_rows = [
        {
            "test": test["name"],
            "kind": test["kind"],
            "cases": test["cases"],
            "rates": [
                next(t for t in r.behaviour[m]["tests"] if t["name"] == test["name"])["failure_rate"] for m in models
            ],
        }
        for test in tests
    ]
    versus = {  # accuracy points by which the model for use trails notebook 05's, on the same footing
        split: 100 * (r.test[in_domain_choice][split]["accuracy"] - r.test[chosen][split]["accuracy"])
        for split in ("test", "ood_test", "handwritten_test")
    }
    return {
        "sets": r.sets,
        "annotation": r.annotation,
        "choice": r.choice,
        "served": r.served,
        "rows": rows,
        "goals": goals,
        "in_domain_choice": in_domain_choice,
        "versus": versus,
        "behaviour_models": models,
        "behaviour_rows": behaviour_rows,
        "intensifier_tolerance": INTENSIFIER_TOLERANCE,
        "invariance_texts": INVARIANCE_TEXTS,
    }
