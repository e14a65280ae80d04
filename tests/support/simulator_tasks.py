"""ZEGO simulator tasks of every kind, for the simulator's unit tests (several carry the TaskIds
and file ids of the vendor's examples).

A Tencent merge (finished and failed), transcode (finished and failed), snapshot at offsets and sampled,
a Huawei snapshot and a Huawei merge: every kind of task, final state and completion callback the
simulator knows. Shared so that each test module does not keep its own copy of the same task.
"""

from __future__ import annotations

from devstack.zego_simulator.scenario import FinalState, Step, TaskSpec, Vendor

COMPOSE = TaskSpec(
    task_id="1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0",
    vendor=Vendor.TENCENT,
    event="compose",
    timeline=(Step("PROCESSING", 10),),
    final=FinalState(
        "FINISH", {"FileId": "5285890813218549789", "ReplayUrl": "https://example-vod.zego.im/compose/out.mp4"}
    ),
)
COMPOSE_FAILED = TaskSpec(
    task_id="compose-failed",
    vendor=Vendor.TENCENT,
    event="compose",
    final=FinalState("FAIL", {"Message": "source file is corrupted"}),
)
TRANSCODE = TaskSpec(
    task_id="1500030200-procedurev2-afc1fe7dfe51cd88a5d588cacba53393tt0",
    vendor=Vendor.TENCENT,
    event="transcode",
    final=FinalState("FINISH", {"FileId": "3270835010897125368", "ReplayUrl": "http://vod.example/playlist.m3u8"}),
)
TRANSCODE_FAILED = TaskSpec(
    task_id="transcode-failed", vendor=Vendor.TENCENT, event="transcode", final=FinalState("FAIL", {"Message": "bad"})
)
SNAPSHOT_AT_OFFSETS = TaskSpec(
    task_id="1253642700910365374",
    vendor=Vendor.TENCENT,
    event="SnapshotByTimeOffset",
    final=FinalState(
        "FINISH", {"FileId": "abcwurywbhsfwi", "ThumbnailsUrl": ["http://abc.com/1.jpg", "http://abc.com/2.jpg"]}
    ),
)
SNAPSHOT_SAMPLED = TaskSpec(
    task_id="sampled",
    vendor=Vendor.TENCENT,
    event="SampleSnapshot",
    final=FinalState("FINISH", {"FileId": "f1", "ThumbnailsUrl": ["http://abc.com/s_0.jpg"]}),
)
HUAWEI_SNAPSHOT = TaskSpec(
    task_id="289665200",
    vendor=Vendor.HUAWEI,
    event="SnapshotByTimeOffset",
    final=FinalState("SUCCEEDED", {"FileName": ["record/demo/0.jpg", "record/demo/10.jpg"]}),
)
HUAWEI_MERGE = TaskSpec(
    task_id="289665201",
    vendor=Vendor.HUAWEI,
    event="compose",
    timeline=(Step("PROCESSING", 20),),
    final=FinalState("SUCCEEDED", {"ReplayUrl": "https://obs.example/merge/289665201.mp4"}),
)
EVERY_KIND = (
    COMPOSE,
    COMPOSE_FAILED,
    TRANSCODE,
    TRANSCODE_FAILED,
    SNAPSHOT_AT_OFFSETS,
    SNAPSHOT_SAMPLED,
    HUAWEI_SNAPSHOT,
    HUAWEI_MERGE,
)
