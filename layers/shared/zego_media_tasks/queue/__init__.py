"""SQS adapter for poll messages."""
