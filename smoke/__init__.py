"""``make smoke``: one acceptance suite for a stack, deployed or local.

- :mod:`smoke.targets`: *what* is checked. ``STACK=<name>`` resolves a deployed stack from its
  CloudFormation Outputs and Parameters (boto3, the usual credentials and region); no ``STACK`` starts the
  local stack (:class:`devstack.stack.LocalStack`). Either way the result is one :class:`~smoke.targets.Target`.
- :mod:`smoke.checks`: *the checks*, the same for both: register a smoke task, read it back, list it by
  status, find the stack's alarms, and see its state-change events arrive on the bus through a temporary
  rule and queue (which are always deleted), after a signed ZEGO callback ends the task.
- ``python -m smoke [--stack NAME] [--region REGION]``: runs them; any failure is one line and exit 1.
"""
