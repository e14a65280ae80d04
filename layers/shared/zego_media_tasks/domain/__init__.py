"""The domain core: no boto3, no requests, no Lambda. Everything here is pure and unit-testable."""
