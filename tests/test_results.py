import pytest

from identifiability.results import append_record, read_records


def test_records_round_trip_in_order(tmp_path):
    path = tmp_path / "r.jsonl"
    append_record(path, {"a": 1, "nested": {"b": [1.5, 2.5]}})
    append_record(path, {"a": 2})
    assert read_records(path) == [{"a": 1, "nested": {"b": [1.5, 2.5]}}, {"a": 2}]


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        append_record(tmp_path / "missing" / "r.jsonl", {"a": 1})
