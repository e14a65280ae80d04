"""Unit tests of the ZEGO adapter (no network: answers come from a canned transport)."""
