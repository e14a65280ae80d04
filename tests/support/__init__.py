"""Shared test doubles and fixtures helpers (no network here)."""
