"""Overrides: hand-written names and portraits from YAML, applied last, with clear errors."""

from __future__ import annotations

import pytest

from resources.namers import ClusterName, apply_overrides, load_overrides

NAMES = [
    ClusterName(
        "A", "Elderly Communal Flats", "Far more people in care homes.", "openai", "gpt-5-mini", "names-v1"
    ),
    ClusterName("D", "Student Cosmopolitan Flats", "Far more students.", "openai", "gpt-5-mini", "names-v1"),
    ClusterName("D1", "Student Halls", "Far more communal living.", "offline", None, "offline-1", "HTTP 500"),
]


def _write(tmp_path, text):
    path = tmp_path / "liverpool.yaml"
    path.write_text(text)
    return path


def test_missing_or_empty_file_means_no_overrides(tmp_path):
    assert load_overrides(tmp_path / "absent.yaml") == {}
    assert load_overrides(_write(tmp_path, "# nothing yet\n")) == {}
    assert apply_overrides(NAMES, load_overrides(tmp_path / "absent.yaml")) == NAMES


def test_overrides_replace_name_or_portrait_and_mark_the_source(tmp_path):
    path = _write(
        tmp_path,
        "A:\n  name: Established   Professional Residents\n"
        "D1:\n  description: |\n    Purpose-built student halls near the universities.\n",
    )
    result = apply_overrides(NAMES, load_overrides(path))
    assert result[0].name == "Established Professional Residents" and result[0].source == "override"
    assert result[0].description == NAMES[0].description
    assert result[1] == NAMES[1]
    assert result[2].name == "Student Halls" and result[2].source == "override"
    assert result[2].description == "Purpose-built student halls near the universities."


def test_unknown_code_names_the_file_and_the_code(tmp_path):
    path = _write(tmp_path, "Z9:\n  name: Nowhere Flats\n")
    with pytest.raises(ValueError, match=rf"{path}.*'Z9'"):
        apply_overrides(NAMES, load_overrides(path))


@pytest.mark.parametrize(
    "text, message",
    [
        ("- A\n- B\n", "expected a mapping"),
        ("A: Flats\n", "cluster A: expected a mapping"),
        ("A:\n  title: Flats\n", "cluster A: unknown field"),
        ("A:\n  name: ''\n", "cluster A: name must be non-empty"),
        ("A: [unclosed\n", "not valid YAML"),
    ],
)
def test_malformed_files_are_reported_with_file_and_cluster(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as raised:
        load_overrides(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("A:\n  name: Student Cosmopolitan Flats\n", "already used"),
        ("A:\n  name: Very Old Communal Flats\n", "4 words"),
    ],
)
def test_overrides_must_follow_the_naming_rules(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as raised:
        apply_overrides(NAMES, load_overrides(path))
    assert str(path) in str(raised.value) and "cluster A" in str(raised.value)
