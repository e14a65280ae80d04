"""Where the committed fixture files live: ZEGO's documented bodies, as the adapter and the simulator are
checked against them."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ZEGO_RESPONSES = FIXTURES / "zego"
"""DescribeMediaTask answers: the vendor's examples, and edge cases in ``edge-cases/``."""
ZEGO_CALLBACKS = FIXTURES / "zego-callbacks"
"""Completion callbacks, as ZEGO's documentation shows them."""
