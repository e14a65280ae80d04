"""DynamoDB adapter for task records. Attribute names and index names live in :mod:`.items`."""
