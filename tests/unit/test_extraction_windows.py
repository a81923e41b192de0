"""Each table's extraction window (include/shopstream/extract.py `plan_windows`), from RAW's watermarks.

The runs that exercise them end to end are in tests/integration/test_pipeline_e2e.py; here, the
edges: a first load, a daily run, a backfill of an older day and a forced full re-read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from include.shopstream.config import EXTRACTED_TABLES, LATE_COMMIT_OVERLAP
from include.shopstream.extract import FULL_HISTORY, KEY_MAX, KEY_MIN, plan_windows, slice_ranges

NOW = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 30, tzinfo=UTC)
MARK = datetime(2026, 11, 29, 23, 50, tzinfo=UTC)  # the newest changed_at RAW holds
LOADED = dict.fromkeys((t.name for t in EXTRACTED_TABLES), MARK)


def test_an_empty_raw_reads_the_whole_history_up_to_now_whatever_the_interval() -> None:
    windows = plan_windows(dict.fromkeys(LOADED), until=MIDNIGHT - timedelta(days=3), full_history=False, now=NOW)
    assert set(windows) == set(LOADED)
    assert all(w == {"since": FULL_HISTORY, "until": NOW.isoformat()} for w in windows.values())


def test_a_daily_run_reads_from_the_watermark_less_the_overlap_to_its_interval_end() -> None:
    windows = plan_windows(LOADED, until=MIDNIGHT, full_history=False, now=NOW)
    assert all(
        w == {"since": (MARK - LATE_COMMIT_OVERLAP).isoformat(), "until": MIDNIGHT.isoformat()}
        for w in windows.values()
    )


def test_a_backfill_of_an_older_day_has_an_empty_window() -> None:
    """Its interval ends before what RAW holds: `since` is after `until`, so no row can match."""
    older_day_end = MIDNIGHT - timedelta(days=3)
    for window in plan_windows(LOADED, until=older_day_end, full_history=False, now=NOW).values():
        assert datetime.fromisoformat(window["since"]) > datetime.fromisoformat(window["until"])


def test_full_history_rereads_everything_even_when_raw_holds_it() -> None:
    windows = plan_windows(LOADED, until=MIDNIGHT, full_history=True, now=NOW)
    assert all(w == {"since": FULL_HISTORY, "until": NOW.isoformat()} for w in windows.values())


def test_a_window_is_sliced_into_contiguous_key_ranges() -> None:
    """Half-open ranges cut at the quantile keys, open-ended at both ends: every bigint key (but the
    largest) falls in exactly one slice, even one that enters the window after the slicing; one slice without cuts."""
    assert slice_ranges([]) == [(KEY_MIN, KEY_MAX)]
    ranges = slice_ranges([17, 9])
    assert ranges == [(KEY_MIN, 9), (9, 17), (17, KEY_MAX)]
    for key in (KEY_MIN, -1, 0, 8, 9, 16, 17, 10**12, KEY_MAX - 1):
        assert sum(low <= key < high for low, high in ranges) == 1, key
    # Repeated cuts (a window of few distinct keys) add no empty slice.
    assert slice_ranges([10, 11, 11]) == [(KEY_MIN, 10), (10, 11), (11, KEY_MAX)]
