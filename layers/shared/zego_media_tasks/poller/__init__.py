"""The poller: follows each ZEGO media task from registration to a terminal state.

- :mod:`.settings`: ``PollerSettings``, the environment checked at cold start.
- :mod:`.service`: ``PollerService``, one SQS message at a time (read, fence, rate limit, describe,
  decide, send, write); the decisions themselves are in :mod:`zego_media_tasks.domain.polling`.
- :mod:`.wiring`: builds the service and its adapters from the environment (once per instance).
- :mod:`.telemetry`: the log line and metrics of each way a record ends, as plain data.
- :mod:`.lambda_adapter`: the Lambda side: SQS record → service → Powertools logs and metrics.
"""
