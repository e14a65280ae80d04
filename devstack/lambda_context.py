"""A Lambda-like invocation context for running real handlers locally."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LocalLambdaContext:
    """The attributes Powertools and handlers read from Lambda's context object."""

    function_name: str
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        """The ARN Lambda would pass for an unqualified invocation."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        """The log group Lambda would write to."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A log stream name in Lambda's shape."""
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before this invocation would time out."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
