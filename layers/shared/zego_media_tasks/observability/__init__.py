"""What a function reports (log lines and metrics), decided as plain data and emitted at the edge.

- :mod:`.signals`: ``Metric``, ``LogLine`` and ``Telemetry``, free of Powertools, so that each
  function's policy (:mod:`zego_media_tasks.poller.telemetry`, :mod:`zego_media_tasks.api.telemetry`)
  is tested by comparing values.
- :mod:`.powertools`: emits them through Powertools ``Logger`` and ``Metrics`` (EMF).
"""
