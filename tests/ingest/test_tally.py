"""What an import counts when ids repeat: every row read is stored, a duplicate, or one quarantined row."""

from __future__ import annotations

import pandas as pd

from minqing.ingest.pipeline import ImportOptions, import_file

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")


def test_an_exact_repeat_inside_an_id_conflict_is_a_duplicate_not_a_second_quarantined_row(city_store, tmp_path):
    """Three rows of one id, two of them identical: two conflicting rows quarantined, one duplicate.

    Before, the report said 3 quarantined while the quarantine held 2 (the repeat collapsed on its hash).
    """
    path = tmp_path / "conflict.csv"
    rows = [
        ("C9", "2025-04-03 10:00", "噪音", "张三"),
        ("C9", "2025-04-03 10:00", "噪音", "李四"),
        ("C9", "2025-04-03 10:00", "噪音", "李四"),  # the row above, again
        ("OK1", "2025-04-04 10:00", "路灯不亮", "王五"),
    ]
    pd.DataFrame(rows, columns=["工单编号", "受理时间", "诉求内容", "来电人"]).to_csv(path, index=False)
    for _ in range(2):  # and again: nothing new
        report = import_file(city_store, path, ImportOptions(now=NOW))
        assert report.reconciles()
    first = city_store.read_import_reports()[-1]
    q = city_store.read_quarantine()
    assert len(q) == 2 and set(q["reason"]) == {"duplicate_id_conflict"}
    assert (first["quarantined"], first["duplicates"], first["inserted"]) == (2, 1, 1)
    assert city_store.ticket_count() == 1
