"""The state-change publisher: the tasks table's stream in, EventBridge events out."""
