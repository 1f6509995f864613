"""Rating scales as data (interpersonal.core.fidelity.scales): the loader's refusals, scoring by the
scale's rule, the licence rule on item text, the service's directory of licensed scales, and the
shipped example scale.

No published scale's worked example is used: the licensed scales (the IPT Quality and Adherence
Scale, the DIT adherence and competence scale) are not shipped, so the expected values below are
arithmetic on the definitions written here (sum and mean of the item ratings), not clinical facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interpersonal.core.fidelity import scales

VALUES_ONLY = """\
schema = 1
id = "licensed_scale"
title = "A licensed scale loaded as values only"
version = "1"
citation = "Tests."
range = [1, 5]
total = "mean"
phases = ["initial", "middle", "termination"]
therapy = "ipt"

[licence]
name = "Licensed: values only"
item_text = false

[pass_mark]
at_or_above = 3.0
source = "Tests."

[[items]]
id = "i1"

[[items]]
id = "i2"

[[items]]
id = "i3"
"""

WITH_TEXT = """\
schema = 1
id = "worded"
title = "A worded scale"
version = "1"
citation = "Tests."
range = [0, 2]
total = "sum"
phases = ["ipaf", "middle", "ending"]

[licence]
name = "Free"
item_text = true

[pass_mark]
at_or_above = 3
source = "Tests."
confirmed = true

[[items]]
id = "a"
label = "Item a"
anchors = ["none", "some", "all"]

[[items]]
id = "b"
label = "Item b"
"""


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv(scales.DIRS_VARIABLE, raising=False)
    monkeypatch.delenv(scales.SETTINGS_VARIABLE, raising=False)
    scales.reload()
    yield monkeypatch
    scales.reload()


def _write(tmp_path: Path, text: str, name: str = "scale.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _refused(tmp_path: Path, text: str) -> scales.DefinitionError:
    with pytest.raises(scales.DefinitionError) as err:
        scales.load_file(_write(tmp_path, text))
    assert isinstance(err.value, scales.ScaleError)
    assert str(err.value).startswith("scale.toml: ")
    return err.value


def test_values_only_definition_loads(tmp_path: Path) -> None:
    scale = scales.load_file(_write(tmp_path, VALUES_ONLY))

    assert scale.item_ids == ("i1", "i2", "i3")
    assert all(i.label is None and i.anchors == () for i in scale.items)
    assert scale.points == (1, 2, 3, 4, 5)
    assert scale.phases_for("ipt") == ("initial", "middle", "termination")
    assert scale.phases_for("dit") == ()  # an IPT scale does not fit a DIT course


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("range = [1, 5]", "range = [5, 1]", "range", "is not a range"),
        ("range = [1, 5]", "range = [1, 1]", "range", "is not a range"),
        ("range = [1, 5]", "range = [-1, 5]", "range", "0 or more"),
        ("range = [1, 5]", "range = [1, 2, 3]", "range", "two whole numbers"),
        ("range = [1, 5]", "range = [0, 20]", "range", "at most 11 points"),
        ("range = [1, 5]", "range = [1.0, 5]", "range", "two whole numbers"),
        ("at_or_above = 3.0", "at_or_above = 5.5", "pass_mark.at_or_above", "outside the range of the mean"),
        ("at_or_above = 3.0", "at_or_above = 0.5", "pass_mark.at_or_above", "outside the range of the mean"),
        ("at_or_above = 3.0", 'at_or_above = "3"', "pass_mark.at_or_above", "must be a number"),
        ('total = "mean"', 'total = "median"', "total", "'sum' or 'mean'"),
        ('id = "i2"', 'id = "i1"', "items[1].id", "given twice"),
        ('id = "i2"', 'id = "I 2"', "items[1].id", "lower-case"),
        ('phases = ["initial", "middle", "termination"]', "phases = []", "phases", "non-empty list"),
        ('phases = ["initial", "middle", "termination"]', 'phases = ["middle", "middle"]', "phases", "unique"),
        ('therapy = "ipt"', 'therapy = "psychoanalysis"', "therapy", "protocol's therapy key"),
        ("schema = 1", "schema = 2", "schema", "reads schema 1"),
        ('version = "1"', 'version = "1"\ncolour = "blue"', "colour", "not a known field"),
    ],
)
def test_loader_refuses_a_bad_field(tmp_path: Path, old: str, new: str, field: str, problem: str) -> None:
    assert old in VALUES_ONLY

    err = _refused(tmp_path, VALUES_ONLY.replace(old, new, 1))

    assert err.field == field
    assert problem in err.problem


def test_item_text_refused_when_the_licence_does_not_allow_it(tmp_path: Path) -> None:
    text = VALUES_ONLY.replace('id = "i2"', 'id = "i2"\nlabel = "Wording copied from a licensed scale"')

    err = _refused(tmp_path, text)

    assert err.field == "items[1].label"
    assert "licence does not allow item text" in err.problem


def test_anchor_wording_refused_when_the_licence_does_not_allow_it(tmp_path: Path) -> None:
    text = VALUES_ONLY.replace('id = "i1"', 'id = "i1"\nanchors = ["a", "b", "c", "d", "e"]')

    err = _refused(tmp_path, text)

    assert err.field == "items[0].anchors"
    assert "licence does not allow anchor wording" in err.problem


def test_scale_wide_anchors_refused_when_the_licence_does_not_allow_them(tmp_path: Path) -> None:
    text = VALUES_ONLY.replace('total = "mean"', 'total = "mean"\nanchors = ["a", "b", "c", "d", "e"]')

    assert _refused(tmp_path, text).field == "anchors"


def test_anchors_must_be_one_per_point(tmp_path: Path) -> None:
    text = WITH_TEXT.replace('anchors = ["none", "some", "all"]', 'anchors = ["none", "all"]')

    err = _refused(tmp_path, text)

    assert err.field == "items[0].anchors"
    assert "3 expected, 2 given" in err.problem


def test_sum_pass_mark_is_checked_against_the_range_of_the_sum(tmp_path: Path) -> None:
    # Two items rated 0–2: the sum runs 0–4, so 5 is outside it.
    err = _refused(tmp_path, WITH_TEXT.replace("at_or_above = 3", "at_or_above = 5"))

    assert err.field == "pass_mark.at_or_above"
    assert "(0–4)" in err.problem


def test_an_example_scale_must_say_so_in_its_title(tmp_path: Path) -> None:
    err = _refused(tmp_path, WITH_TEXT.replace('version = "1"', 'version = "1"\nexample = true'))

    assert err.field == "title"


def test_phases_by_therapy_refuse_an_unknown_therapy(tmp_path: Path) -> None:
    text = WITH_TEXT.replace('phases = ["ipaf", "middle", "ending"]\n', "") + '\n[phases]\nipt = ["initial"]\nyoga = ["start"]\n'

    err = _refused(tmp_path, text)

    assert err.field == "phases.yoga"


def test_mean_rule_scores_total_mean_and_pass(tmp_path: Path) -> None:
    scale = scales.load_file(_write(tmp_path, VALUES_ONLY))

    just_passing = scale.score({"i1": 3, "i2": 3, "i3": 3})  # mean 3.0: at the mark passes
    failing = scale.score({"i1": 3, "i2": 3, "i3": 2})  # mean 8/3 = 2.67: below
    high = scale.score({"i1": 5, "i2": 4, "i3": 4})  # mean 13/3

    assert (just_passing.total, just_passing.mean, just_passing.passed) == (3.0, 3.0, True)
    assert failing.passed is False
    assert failing.total == pytest.approx(8 / 3)
    assert high.passed is True
    assert high.total == pytest.approx(13 / 3)


def test_sum_rule_scores_the_sum(tmp_path: Path) -> None:
    scale = scales.load_file(_write(tmp_path, WITH_TEXT))

    at_mark = scale.score({"a": 2, "b": 1})
    below = scale.score({"a": 1, "b": 1})

    assert (at_mark.total, at_mark.mean, at_mark.passed) == (3, 1.5, True)
    assert (below.total, below.passed) == (2, False)


def test_item_anchors_default_to_the_scale_wide_anchors(tmp_path: Path) -> None:
    text = WITH_TEXT.replace('total = "sum"', 'total = "sum"\nanchors = ["never", "sometimes", "always"]')
    scale = scales.load_file(_write(tmp_path, text))

    assert scale.items[0].anchors == ("none", "some", "all")
    assert scale.items[1].anchors == ("never", "sometimes", "always")


def test_a_missing_item_is_unscorable_and_says_which(tmp_path: Path) -> None:
    scale = scales.load_file(_write(tmp_path, VALUES_ONLY))

    result = scale.score({"i1": 3, "i2": None})

    assert result.scorable is False
    assert result.total is None
    assert result.mean is None
    assert result.passed is None
    assert "item i2 is not rated" in (result.reason or "")
    assert "item i3 is not rated" in (result.reason or "")


@pytest.mark.parametrize("bad", [0, 6, 2.5, True, "3"])
def test_an_out_of_range_or_non_whole_rating_is_unscorable(tmp_path: Path, bad: object) -> None:
    scale = scales.load_file(_write(tmp_path, VALUES_ONLY))

    result = scale.score({"i1": bad, "i2": 3, "i3": 3})

    assert result.scorable is False
    assert result.total is None
    assert result.passed is None
    assert "item i1" in (result.reason or "")


def test_an_unknown_item_is_an_error(tmp_path: Path) -> None:
    scale = scales.load_file(_write(tmp_path, VALUES_ONLY))

    with pytest.raises(scales.InvalidRatings, match="i9"):
        scale.score({"i1": 3, "i2": 3, "i3": 3, "i9": 3})


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=5, max_size=5))
def test_example_scale_totals_stay_in_range_and_pass_follows_the_mean(values: list[int]) -> None:
    scale = scales.get("example_interpersonal_adherence")
    ratings = dict(zip(scale.item_ids, values, strict=True))

    result = scale.score(ratings)

    assert result.scorable
    assert scale.minimum <= (result.total or 0) <= scale.maximum
    assert result.passed == (sum(values) >= 3 * len(values))
    assert scale.score(dict(reversed(list(ratings.items())))) == result  # item order is irrelevant


def test_shipped_example_is_labelled_as_an_example(fresh: pytest.MonkeyPatch) -> None:
    example = scales.get("example_interpersonal_adherence")

    assert example.example is True
    assert "example" in example.title.lower()
    assert "not a published instrument" in example.title
    assert example.licence.item_text is True
    assert example.total_rule == "mean"
    assert example.pass_mark.at_or_above == 3.0
    assert example.pass_mark.confirmed is False  # a service's choice, not a published fact
    assert example.phases_for("dit") == ("ipaf", "middle", "ending")
    assert example.phases_for("ipt") == ("initial", "middle", "termination")
    assert example.phases_for("cbt") == ()
    assert all(len(i.anchors) == 5 and i.label for i in example.items)


def test_shipped_scales_attribute_nothing_to_the_licensed_scales(fresh: pytest.MonkeyPatch) -> None:
    for path in scales.BUILTIN_DIR.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        definition = scales.load_file(path)
        assert definition.example, f"{path.name}: only example scales are shipped; a service loads licensed ones"
        for line in text.splitlines():
            if "IPT Quality and Adherence" in line or "DIT adherence" in line:
                assert line.lstrip().startswith("#"), f"{path.name}: a licensed scale is named outside a comment"


def test_a_service_loads_its_licensed_scale_from_a_directory(fresh: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _write(tmp_path, VALUES_ONLY, "licensed_scale.toml")
    fresh.setenv(scales.DIRS_VARIABLE, str(tmp_path))
    scales.reload()

    loaded = scales.get("licensed_scale")

    assert loaded.item_ids == ("i1", "i2", "i3")
    assert [s.id for s in scales.catalogue(therapy="ipt")] == ["example_interpersonal_adherence", "licensed_scale"]
    assert [s.id for s in scales.catalogue(therapy="dit")] == ["example_interpersonal_adherence"]


def test_a_settings_file_changes_the_pass_mark_but_not_the_items(fresh: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _write(tmp_path, '[example_interpersonal_adherence.pass_mark]\nat_or_above = 3.5\nsource = "Our service"\n',
                      "settings.toml")
    fresh.setenv(scales.SETTINGS_VARIABLE, str(settings))
    scales.reload()

    assert scales.get("example_interpersonal_adherence").pass_mark.at_or_above == 3.5

    _write(tmp_path, '[example_interpersonal_adherence]\nitems = []\n', "settings.toml")
    scales.reload()
    with pytest.raises(scales.DefinitionError, match="may not change"):
        scales.get("example_interpersonal_adherence")


def test_unknown_scale_names_the_known_ones(fresh: pytest.MonkeyPatch) -> None:
    with pytest.raises(scales.UnknownScale, match="example_interpersonal_adherence"):
        scales.get("ipt_qas")
