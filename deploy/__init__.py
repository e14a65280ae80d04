"""``make deploy``: ``sam build``, then ``sam deploy`` with a ``samconfig.toml`` profile (``CONFIG_ENV``).

``python -m deploy`` works out the ``--parameter-overrides`` for ``sam deploy``: the profile's own
``parameter_overrides``, plus every template parameter without a default that the profile does not set (the
ZEGO AppId and the ServerSecret's ARN), taken from its environment variable (``ZEGO_APP_ID``,
``ZEGO_SERVER_SECRET_ARN``) or asked for, and checked against the template's constraints before anything
is deployed. Everything else keeps the template's defaults.
"""
