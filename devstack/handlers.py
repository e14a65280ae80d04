"""Load the real Lambda entry points (``functions/<name>/app.py``) the way Lambda does: by file."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(function: str, module_name: str | None = None) -> Handler:
    """``lambda_handler`` of ``functions/<function>/app.py``, imported under a unique module name.

    Both functions' files are called ``app.py``; importing them by path under distinct names lets one
    process host both, as the local stack and the tests need.
    """
    path = FUNCTIONS_DIR / function / "app.py"
    name = module_name or f"zego_function_{function}_app"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.lambda_handler
    return handler
