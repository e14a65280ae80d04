"""moto's server in a child process, so that the AWS emulator gets a CPU core of its own.

The local stack runs moto in-process; with every handler, the simulator and the event source in the
same interpreter, one core (the GIL) caps the soak at roughly a dozen poll messages per second on a
small machine. The soak starts moto as ``python -m soak.moto_process <port>`` instead, and the child
serializes moto's DynamoDB writes (as :func:`soak.instruments.serialize_moto_writes` does in-process),
keeping DynamoDB's guarantee that conditional writes to one item are atomic.

bandit's subprocess warnings (B404, B603) are suppressed here: the only child is our own interpreter
running this module with a port number, without a shell.
"""

from __future__ import annotations

import os
import signal
import subprocess  # nosec B404
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from devstack.emulator import AwsEmulator

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0


class MotoProcess(AwsEmulator):
    """:class:`AwsEmulator` whose server runs in a child process on 127.0.0.1."""

    def __init__(self, port: int = 0, log_path: Path | None = None) -> None:
        super().__init__(port)
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> MotoProcess:
        """Start the child and return once it answers (bounded wait)."""
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), str(ROOT / "layers" / "shared"), environment.get("PYTHONPATH", "")]
        )
        log = open(self._log_path, "wb") if self._log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
        try:
            # Our own interpreter and module, a port number, no shell.
            self._process = subprocess.Popen(  # noqa: S603 # nosec B603
                [sys.executable, "-m", "soak.moto_process", str(self.port), str(os.getpid())],
                env=environment,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        finally:
            if log is not subprocess.DEVNULL and hasattr(log, "close"):
                log.close()  # the child holds its own handle
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto child exited with status {self._process.returncode}")
            try:
                requests.get(f"{self.endpoint_url}/moto-api/", timeout=1).raise_for_status()
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto child did not answer within {START_TIMEOUT_SECONDS} s")

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after 10 s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _serve(port: int, parent: int) -> None:
    """The child: moto's threaded server with DynamoDB writes serialized, until SIGTERM or until the
    soak that started it is gone (so that a killed soak leaves no server behind)."""
    import logging

    from moto.dynamodb.responses import DynamoHandler
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request costs CPU

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoHandler, name)

        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoHandler, name, locked)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    while not stopping.wait(1.0) and os.getppid() == parent:
        pass
    server.stop()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
