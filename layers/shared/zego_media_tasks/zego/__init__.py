"""The ZEGO server-API adapter: the one module that talks to ZEGO.

- :mod:`.signing`: ``SignatureVersion=2.0`` request signatures.
- :mod:`.client`: :class:`ZegoClient`, one signed ``DescribeMediaTask`` GET per call.
- :mod:`.responses`: the response parser and the code → outcome table.
- :mod:`.settings`: :class:`ZegoSettings` from the environment, and :func:`build_client`.

The rest of the system sees only :class:`~zego_media_tasks.domain.outcome.CallOutcome`; nothing from
``requests`` or ZEGO's return codes leaks past this package.
"""

from zego_media_tasks.zego.client import SecretUnavailableError, ZegoClient
from zego_media_tasks.zego.settings import ZegoSettings, build_client

__all__ = ["SecretUnavailableError", "ZegoClient", "ZegoSettings", "build_client"]
