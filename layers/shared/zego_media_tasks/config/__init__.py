"""Configuration from the environment, one mechanism for both functions.

- :mod:`.environment`: the mechanism. A settings model declares each variable once (name, kind with
  its bounds, default, description) and ``from_env`` reports every problem in one
  :class:`~zego_media_tasks.config.environment.SettingsError`.
- :mod:`.knobs`: the variables several functions read (``TABLE_NAME``, ``QUEUE_URL``,
  ``TASK_DEADLINE_SECONDS``, ``TERMINAL_RECORD_TTL_DAYS``, ``SECRET_CACHE_SECONDS``), declared once, and
  :class:`~.knobs.RecordStoreSettings` (the table and the lists bucket), the base of every model of a
  function that keeps task records.
- :mod:`.lifetime`: :class:`~.lifetime.RecordLifetimeSettings`, that base with the records' deadline and
  TTL, for the two functions that end tasks (poller, callback receiver).
- :mod:`.secrets`: :class:`~.secrets.SecretSource`, a secret from Secrets Manager or given locally (both
  variables, the exactly-one rule and both fields, for every secret), and the one reading of a Secrets
  Manager value, "plain string or JSON object".

The models themselves live with what they configure: ``poller.settings``, ``api.settings`` and
``zego.settings``. Defaults that are domain policy (the poll schedule) are the domain's own constants.
"""
