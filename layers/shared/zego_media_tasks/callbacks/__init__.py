"""The completion-callback receiver: ZEGO's signed callbacks applied to the task records."""
