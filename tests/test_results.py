"""The results store: atomic, concurrent-safe records keyed by spec, read back as tables."""

import json
import math
import multiprocessing

import pytest

from identifiability.records import Store, format_table, summarise, to_csv


def record(key, status="ok", **fields):
    return {"key": key, "status": status, **fields}


def test_records_round_trip_in_order(tmp_path):
    store = Store(tmp_path / "r.jsonl")
    assert store.records() == [] and store.done() == set()
    store.append(record("a", nested={"b": [1.5, 2.5]}))
    store.append(record("b", "failed", error="boom"))
    store.append(record("b"))
    assert [r["key"] for r in store.records()] == ["a", "b", "b"]
    assert store.done() == {"a", "b"} and store.failed() == {}


def test_failed_runs_are_kept_with_their_error(tmp_path):
    store = Store(tmp_path / "r.jsonl")
    store.append(record("a", "failed", error="ValueError: boom"))
    assert store.done() == set() and store.failed()["a"]["error"] == "ValueError: boom"


def test_a_record_needs_a_key_and_a_status(tmp_path):
    with pytest.raises(ValueError, match="key"):
        Store(tmp_path / "r.jsonl").append({"status": "ok"})


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Store(tmp_path / "missing" / "r.jsonl").append(record("a"))


def _append_many(path, worker, count):
    store = Store(path)
    for i in range(count):
        store.append(record(f"{worker}-{i}", payload="x" * (1000 + 997 * (i % 50))))  # lines of 1-50 kB


def test_concurrent_appenders_leave_every_record_whole(tmp_path):
    path = tmp_path / "r.jsonl"
    workers = [multiprocessing.Process(target=_append_many, args=(path, w, 200)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 800 and all(json.loads(line)["status"] == "ok" for line in lines)
    assert len({json.loads(line)["key"] for line in lines}) == 800


def test_summaries_group_records_and_give_intervals():
    def run(process, score, seed):
        return {"key": f"{process}{seed}", "status": "ok", "spec": {"process": {"name": process}},
                "metrics": {"code": {"affine_r2": {"score": score, "null": {"upper": 0.01}}, "mcc": {"score": score / 2}}},
                "baselines": {"raw_x": {"code": {"affine_r2": {"score": 0.7}, "mcc": {"score": 0.5}}}}}

    rows = summarise([run("sphere", 0.9, 0), run("sphere", 0.8, 1), run("box", 0.5, 0),
                      {"key": "x", "status": "failed"}], by=["process"])
    sphere = next(r for r in rows if r["process"] == "sphere")
    assert sphere["runs"] == 2 and sphere["affine_r2"] == pytest.approx(0.85)
    assert sphere["affine_r2_low"] == pytest.approx(0.85 - 1.96 * 0.0707107 / 2**0.5, abs=1e-6)
    table = format_table(rows, ["process"])
    assert "| sphere | 2 | 0.850 [" in table and "| box | 1 | 0.500 |" in table
    assert to_csv(rows).splitlines()[0].startswith("process,runs,affine_r2")
    # a value that is not finite is not dropped from the mean: the row says NaN instead of a number it never measured
    gated = summarise([run("sphere", float("nan"), 0), run("sphere", 0.8, 1), run("box", float("inf"), 0)], by=["process"])
    for row in gated:
        assert all(row[k] != row[k] or math.isinf(row[k]) for k in ("affine_r2", "affine_r2_low", "affine_r2_high"))
    assert "nan [nan, nan]" in format_table(gated, ["process"])
