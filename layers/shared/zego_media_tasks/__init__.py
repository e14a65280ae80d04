"""zego_media_tasks: track ZEGO media-processing tasks (DescribeMediaTask) on AWS.

Layout:
- ``domain``: statuses, snapshots, records, messages, scheduling. Free of AWS and HTTP.
- ``zego``: the ZEGO server-API adapter (signing, HTTP, response parsing, outcome taxonomy).
- ``store``: the DynamoDB adapter for task records.
- ``queue``: the SQS adapter for poll messages.
- ``config``: the settings mechanism (environment variables declared once, checked at cold start).
"""

__version__ = "0.1.0"
