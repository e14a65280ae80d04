"""Benchmarks of the pipeline (issue 6): ``python -m bench`` (``make bench``) measures, writes
``bench/results.json`` and the PNG charts next to it, and refreshes the figures block of
``docs/benchmarks.md``.

Speed is measured here and only here; no test asserts a duration. Every load loop is bounded in count
and in time, and all traffic stays on 127.0.0.1.
"""
