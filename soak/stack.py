"""The local stack with the soak's two additions: template parameter overrides and a poller wrapper.

:class:`devstack.stack.LocalStack` provisions with the template's defaults (``provision(prefix="local")``)
and hands the poller to the event source as loaded. The soak needs a shorter visibility timeout
(:data:`soak.config.VISIBILITY_TIMEOUT_SECONDS`) and a log of every invocation, so :class:`SoakStack`
swaps the two names ``devstack.stack`` uses while its ``_start`` runs. It also swaps in an event source
whose crash rate can be switched off for the final drain. The proper change belongs in
``devstack/stack.py`` (``parameter_overrides`` and ``invoke_hook`` options in ``StackOptions``) and
``devstack/event_source.py`` (a settable crash rate); until then this module keeps the soak self-contained.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from unittest import mock

import devstack.stack
from devstack.emulator import AwsEmulator
from devstack.event_source import LocalEventSourceMapping
from devstack.handlers import Handler, load_handler
from devstack.resources import ProvisionedStack, provision
from devstack.stack import LocalStack, StackOptions


class SoakEventSourceMapping(LocalEventSourceMapping):
    """The local event source mapping, with a crash rate that can be switched off while it runs.

    The soak crashes invocations while tasks run, then stops crashing to check that the queue drains:
    a crash during the drain would hide its batch for another visibility timeout.
    """

    def stop_crashing(self) -> None:
        """No more injected crashes from now on."""
        self._crash_rate = 0.0


class SoakStack(LocalStack):
    """:class:`LocalStack` provisioned with ``parameter_overrides``, its poller wrapped by ``wrap_poller``,
    optionally on another AWS emulator (e.g. :class:`soak.moto_process.MotoProcess`)."""

    def __init__(
        self,
        options: StackOptions,
        *,
        parameter_overrides: dict[str, Any],
        wrap_poller: Callable[[Handler], Handler],
        emulator: AwsEmulator | None = None,
    ) -> None:
        super().__init__(options)
        if emulator is not None:
            self.emulator = emulator
        self.parameter_overrides = dict(parameter_overrides)
        self._wrap_poller = wrap_poller

    def __enter__(self) -> SoakStack:
        self.start()
        return self

    def provisioned(self) -> ProvisionedStack:
        """The provisioned tables and queues (the stack must be started)."""
        if self.resources is None:
            raise RuntimeError("the soak stack is not started")
        return self.resources

    def stop_crashing(self) -> None:
        """Switch off the event source's injected crashes (see :class:`SoakEventSourceMapping`)."""
        if isinstance(self.event_source, SoakEventSourceMapping):
            self.event_source.stop_crashing()

    def _load(self, function: str, module_name: str | None = None) -> Handler:
        handler = load_handler(function, module_name)
        return self._wrap_poller(handler) if function == "poller" else handler

    def _start(self) -> None:
        provision_with_overrides = functools.partial(provision, parameter_overrides=self.parameter_overrides)
        with (
            mock.patch.object(devstack.stack, "provision", provision_with_overrides),
            mock.patch.object(devstack.stack, "load_handler", self._load),
            mock.patch.object(devstack.stack, "LocalEventSourceMapping", SoakEventSourceMapping),
        ):
            super()._start()
