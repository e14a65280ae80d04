"""An open-loop HTTP load generator for the local API, run in its own process by ``bench.per_record``
(so that its work does not compete with the server for one interpreter lock).

Requests are *scheduled* at a fixed rate (request ``i`` at ``start + i / rate``) and sent by a small
pool of threads, each with its own keep-alive connection. Two latencies are recorded: the service
time (send → full answer) and the time from the scheduled moment to the full answer, which also counts
any wait for a free thread, so a slow server cannot hide behind a client that politely slows down
(coordinated omission). Bounded: ``count`` requests at most, none scheduled after
``deadline_seconds``, and none sent more than ``GRACE_SECONDS`` after that (a saturated server leaves a
backlog of scheduled requests; they are counted as not sent). Prints one JSON document on stdout.
Only ``http://127.0.0.1`` URLs are accepted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

GRACE_SECONDS = 5.0


class LoadStep:
    """One fixed-rate step against one server."""

    def __init__(self, port: int, paths: Sequence[str], *, rate: float, count: int, deadline_seconds: float) -> None:
        self.port = port
        self.paths = list(paths)
        self.rate = rate
        self.count = count
        self.deadline_seconds = deadline_seconds
        self.samples: list[tuple[float, float, int]] = []
        self.errors: list[str] = []
        self.not_sent = 0
        self._lock = threading.Lock()
        self._next = 0
        self.start = time.monotonic() + 0.2

    def _claim(self) -> int | None:
        with self._lock:
            index = self._next
            self._next += 1
        scheduled = self.start + index / self.rate
        if index >= self.count or scheduled > self.start + self.deadline_seconds:
            return None
        return index

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def worker(self) -> None:
        """Send scheduled requests until the count or the deadline is reached."""
        connection = self._connect()
        while (index := self._claim()) is not None:
            scheduled = self.start + index / self.rate
            if time.monotonic() > self.start + self.deadline_seconds + GRACE_SECONDS:
                with self._lock:
                    self.not_sent += 1
                continue
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic()
            try:
                connection.request("GET", self.paths[index % len(self.paths)])
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = self._connect()
                with self._lock:
                    self.errors.append(type(error).__name__)
                continue
            done = time.monotonic()
            with self._lock:
                self.samples.append((done - sent, done - scheduled, response.status))
        connection.close()

    def run(self, threads: int) -> dict[str, object]:
        """Run the step with ``threads`` senders; the raw samples."""
        workers = [threading.Thread(target=self.worker, daemon=True) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=self.deadline_seconds + GRACE_SECONDS + 15)
        return {
            "elapsed_seconds": time.monotonic() - self.start,
            "service_seconds": [s[0] for s in self.samples],
            "from_schedule_seconds": [s[1] for s in self.samples],
            "statuses": [s[2] for s in self.samples],
            "errors": list(self.errors),
            "not_sent": self.not_sent,
        }


def main(argv: Sequence[str] | None = None) -> None:
    """Run one load step and print its raw samples."""
    parser = argparse.ArgumentParser(prog="python -m bench.load_client")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--paths-file", required=True, type=Path, help="one request path per line, round-robin")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--deadline-seconds", type=float, required=True)
    args = parser.parse_args(argv)
    base = urlsplit(args.base_url)
    if base.scheme != "http" or base.hostname != "127.0.0.1" or base.port is None:
        raise SystemExit("only http://127.0.0.1:<port> is accepted")
    paths = [line.strip() for line in args.paths_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    step = LoadStep(base.port, paths, rate=args.rate, count=args.count, deadline_seconds=args.deadline_seconds)
    print(json.dumps(step.run(args.threads)))


if __name__ == "__main__":
    main()
