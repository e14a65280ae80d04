"""The watchdog: finds poll chains whose message is gone and re-enqueues them (docs/architecture.md)."""
