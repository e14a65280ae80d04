"""Load the real Lambda entry points (``functions/<name>/app.py``) the way Lambda does: by file.

The one loader for ``make run``, the tests and the benchmarks. (``bench/cold_probe.py`` keeps its own
few lines: it runs in a bare interpreter with only the layer on the path, so that every import it
measures is the handler's.)
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from devstack.template import load_template

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"

Handler = Callable[[dict[str, Any], Any], Any]


def load_function_module(function: str, module_name: str | None = None) -> ModuleType:
    """``functions/<function>/app.py`` imported by path under a unique module name, a fresh module each
    call (so that its lazily built runtime starts empty, as in a new Lambda instance).

    Both functions' files are called ``app.py``; importing them by path under distinct names lets one
    process host both, as the local stack and the tests need.
    """
    path = FUNCTIONS_DIR / function / "app.py"
    spec = importlib.util.spec_from_file_location(module_name or f"zego_function_{function}_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_handler(function: str, module_name: str | None = None) -> Handler:
    """``lambda_handler`` of a freshly loaded ``functions/<function>/app.py`` (see :func:`load_function_module`)."""
    handler: Handler = load_function_module(function, module_name).lambda_handler
    return handler


def function_directory(function_logical_id: str, template: Mapping[str, Any] | None = None) -> str:
    """The ``functions/<name>`` directory of a template function (its ``CodeUri``), checked to hold an
    ``app.py`` whose ``lambda_handler`` is the function's ``Handler``, as the loader assumes."""
    properties = (template or load_template())["Resources"][function_logical_id]["Properties"]
    code = PurePosixPath(str(properties["CodeUri"]))
    if code.parent != PurePosixPath(FUNCTIONS_DIR.name) or properties.get("Handler") != "app.lambda_handler":
        raise ValueError(
            f"{function_logical_id}: CodeUri {code} / Handler {properties.get('Handler')} is not "
            f"{FUNCTIONS_DIR.name}/<name> / app.lambda_handler"
        )
    return code.name


def load_template_handler(function_logical_id: str, module_name: str | None = None) -> Handler:
    """``lambda_handler`` of the template function ``function_logical_id`` (e.g. ``CallbackFunction``),
    freshly loaded from its ``CodeUri``."""
    return load_handler(function_directory(function_logical_id), module_name)
