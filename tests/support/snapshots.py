"""Long snapshot lists as Tencent's SampleSnapshot produces them: the URLs of a one-frame-per-n-seconds
snapshot of a long video, about 130 bytes each (the shape of the vendor's own example)."""

from __future__ import annotations

SNAPSHOT_BASE = "http://vod-tc-restorefile.zego.im/43b7b075vodtranscq1500030200/93172bfa1397757897438985100"


def sample_snapshot_urls(count: int, *, base: str = SNAPSHOT_BASE) -> list[str]:
    """``count`` distinct snapshot URLs, in the order the vendor lists them."""
    return [f"{base}/sampleSnapshot/sampleSnapshot_10_{n}.jpg" for n in range(count)]
