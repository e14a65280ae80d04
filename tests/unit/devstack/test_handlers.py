"""The local stack loads each function from the code directory the template gives it."""

from __future__ import annotations

import pytest

from devstack.handlers import function_directory
from devstack.template import load_template


@pytest.mark.parametrize(
    ("function_id", "directory"),
    [("ApiFunction", "api"), ("PollerFunction", "poller"), ("CallbackFunction", "callbacks")],
)
def test_a_template_function_is_loaded_from_its_code_uri(function_id: str, directory: str) -> None:
    assert function_directory(function_id) == directory


def test_a_function_whose_handler_is_not_app_lambda_handler_is_refused() -> None:
    template = load_template()
    template["Resources"]["CallbackFunction"]["Properties"]["Handler"] = "main.handler"
    with pytest.raises(ValueError, match=r"app\.lambda_handler"):
        function_directory("CallbackFunction", template)
