"""The chaos soak (``make soak``, ``python -m soak``): the whole local pipeline under injected faults.

A thousand scripted tasks of both vendors, every event type and every final outcome go through the real
handlers, moto's server and the ZEGO simulator while the simulator answers with HTTP 5xx, hangs past the
client timeout, Code 6, Code 1000 and truncated JSON, 5 % of the poll messages are sent twice and 2 % of
poller invocations die after re-enqueueing and before acknowledging. Most tasks also get ZEGO's signed
completion callback, of which a scripted share is lost, duplicated, delayed, reordered or badly signed, and
Huawei merges (which polling cannot end) are finished by their callback alone. During the first minute, 2 %
of a running chain's poll messages are deleted before delivery and 2 % of the poller's re-enqueues are
dropped (the record is written as if they had gone out), so the watchdog must find and revive those chains;
mid-run the ServerSecret, which the poller reads from Secrets Manager as deployed, is rotated; and during a
few short windows the embedded AWS emulator answers a share of the stack's DynamoDB and SQS requests with
AWS's throttling and 5xx errors (:mod:`devstack.aws_faults`), which boto3's retries, SQS redelivery and the
API's 503 (to a client that tries again) must absorb. Every write to the tasks table, every message sent and
handled, every callback answered and every state-change event delivered is logged, and the logs are checked
afterwards (:mod:`soak.analysis`): each task ends as its script dictates, by what its script dictates (or,
for a task whose chain lost a message and that no callback ended, ``TIMED_OUT`` by its deadline once the
watchdog revived it); no record ever goes backwards; at most one poll chain per task survives; the
dead-letter queue holds only the messages put there on purpose; each callback met its fate and the forged ones
changed nothing; every status change has exactly one delivered event id.

Modules: :mod:`soak.config` (the knobs), :mod:`soak.scenario` (the tasks), :mod:`soak.instruments`
(the logs), :mod:`soak.analysis` (the pass criteria, pure), :mod:`soak.report` (console, JSON and
Markdown), :mod:`soak.runner` (one run, on :class:`devstack.stack.LocalStack` with moto in a process of
its own). The latest figures are in ``docs/soak.md``; ``tests/e2e/test_soak.py`` runs a 60-task variant
and feeds the checks defective logs.
"""
