"""Fingerprints of what defines a run, so that runs of different configurations never mix.

A training run or a search is identified by a hash of everything that shapes its result: the model and
tokenizer, the content of the data it sees, subset sizes, hyperparameters or search space, objective and
seed. Resuming, reusing and loading are allowed only between equal fingerprints; when they differ,
`helpers.data.fingerprints.differences`
says which parts did, so the message can name them.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from helpers.data.fingerprints import digest
from helpers.paths import PROJECT_ROOT


def tokenizer_identity(tokenizer: Any) -> dict[str, Any]:
    """Class, vocabulary size and a hash of the full vocabulary: what decides the token ids a model sees."""
    return {
        "class": type(tokenizer).__name__,
        "vocab_size": len(tokenizer),
        "vocab": digest(sorted(tokenizer.get_vocab().items())),
    }


def fingerprint(parts: dict[str, Any]) -> str:
    return digest(parts)


class _NoDocstrings(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        is_text = isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        return None if is_text else node


def code_digests(modules: Iterable[str]) -> dict[str, str]:
    """Per module, a hash of its syntax tree without docstrings: comments, docstrings and layout may change
    without changing a fingerprint; any change to what the code does changes it."""
    digests = {}
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"no source for module {name!r}")
        tree = _NoDocstrings().visit(ast.parse(Path(spec.origin).read_text(encoding="utf-8")))
        digests[name] = digest(ast.dump(tree))
    return digests


def code_version(root: Path = PROJECT_ROOT) -> str | None:
    """The checkout's commit, with `-dirty` when tracked files differ from it; None outside a git checkout.

    Saved beside measurements that no fingerprint covers (`make bench`), so a report can say what code made them.
    """
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
