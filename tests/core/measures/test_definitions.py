"""Definition files: the loader's validation, custom instruments, settings overrides, and the
shipped definitions' licences, citations, bands and sources (schema: docs/measures.md)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from interpersonal.core import measures

VALID = """\
schema = 1
id = "calm3"
name = "Calm three-item test scale"
abbreviation = "CALM-3"
version = "test"
construct = "Test construct"
respondent = "patient"
recall_period = "The past week"
citation = "Synthetic scale for tests."

[licence]
name = "Test licence"
item_text = true

[option_sets.freq]
options = [{ value = 0, label = "Never" }, { value = 1 }, { value = 2 }, { value = 3, label = "Always" }]

[[items]]
id = "1"
text = "First"
options = "freq"

[[items]]
id = "2"
options = "freq"

[[items]]
id = "3"
options = "freq"

[scoring]
method = "sum"
range = [0, 9]

[missing]
rule = "prorate"
max_missing = 1
source = "Test rule"
confirmed = true

[[bands]]
min = 0
max = 4
label = "Low"

[[bands]]
min = 5
max = 9
label = "High"

[bands_source]
source = "Test bands"
confirmed = true

[caseness]
at_or_above = 5
source = "Test caseness"
confirmed = false

[[risk]]
item = "3"
at_or_above = 2
label = "Item 3"
"""


def write(tmp_path: Path, text: str, name: str = "calm3.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_template_loads() -> None:
    """Guards the template the failing cases below are built from."""
    inst = measures.parse(tomllib.loads(VALID), "calm3.toml")

    assert inst.id == "calm3"
    assert inst.scoring.score_range == (0, 9)
    assert inst.unconfirmed() == ("caseness",)


# --- loader validation: DefinitionError naming the file and the field -------------------------

BAD_DEFINITIONS = [
    pytest.param(
        VALID.replace('citation = "Synthetic scale for tests."\n', ""),
        "citation",
        "is required",
        id="missing-required-field",
    ),
    pytest.param(
        VALID.replace("recall_period =", 'recal_period = "x"\nrecall_period ='),
        "recal_period",
        "not a known field",
        id="unknown-top-level-field",
    ),
    pytest.param(
        VALID.replace('source = "Test bands"\nconfirmed', 'source = "Test bands"\nconfirmd'),
        "bands_source.confirmd",
        "not a known field",
        id="typo-in-bands-source",
    ),
    pytest.param(
        VALID.replace('source = "Test caseness"\nconfirmed', 'source = "Test caseness"\nconfirmd'),
        "caseness.confirmd",
        "not a known field",
        id="typo-in-caseness",
    ),
    pytest.param(
        VALID.replace('label = "Low"', 'lable = "Low"'), "bands[0].label", "is required", id="typo-in-required-field"
    ),
    pytest.param(
        VALID.replace("item_text = true", "item_text = false").replace('text = "First"\n', ""),
        "items[0].options",
        "option text",
        id="option-label-on-licensed-instrument",
    ),
    pytest.param(
        VALID.replace("item_text = true", "item_text = false"),
        "items[0].text",
        "licence",
        id="item-text-on-licensed-instrument",
    ),
    pytest.param(
        VALID.replace("range = [0, 9]", "range = [0, 10]"), "scoring.range", "[0, 9]", id="declared-range-mismatch"
    ),
    pytest.param(VALID.replace("min = 5", "min = 6"), "bands[1].min", "must be 5", id="bands-gap"),
    pytest.param(VALID.replace("min = 5", "min = 4"), "bands[1].min", "must be 5", id="bands-overlap"),
    pytest.param(
        VALID.replace("max = 9\nlabel", "max = 8\nlabel"), "bands[1].max", "range maximum", id="bands-short-of-range"
    ),
    pytest.param(
        VALID.replace('max = 4\nlabel = "Low"', 'max = 9\nlabel = "Low"').replace(
            "min = 5\nmax = 9", "min = 10\nmax = 9"
        ),
        "bands[1]",
        "max is below min",
        id="empty-last-band",
    ),
    pytest.param(
        VALID.replace("at_or_above = 2", "at_or_above = 4"),
        "risk[0].at_or_above",
        "item's values",
        id="risk-threshold-not-an-item-value",
    ),
    pytest.param(
        VALID.replace("at_or_above = 2", "at_or_above = 0"),
        "risk[0].at_or_above",
        "above its minimum",
        id="risk-threshold-at-minimum",
    ),
    pytest.param(VALID.replace('item = "3"', 'item = "4"'), "risk[0].item", "unknown item", id="risk-unknown-item"),
    pytest.param(
        VALID.replace('options = "freq"', 'options = "frequency"', 1),
        "items[0].options",
        "unknown option set",
        id="unknown-option-set",
    ),
    pytest.param(VALID.replace('id = "3"', 'id = "4"'), "items", "'1'..'3'", id="item-ids-not-in-order"),
    pytest.param(
        VALID.replace("max_missing = 1", "max_missing = 3"),
        "missing.max_missing",
        "between 1 and 2",
        id="max-missing-too-large",
    ),
    pytest.param(
        VALID.replace('method = "sum"', 'method = "sum"\nmultiplier = 2'),
        "scoring.multiplier",
        "mean",
        id="multiplier-on-sum",
    ),
    pytest.param(VALID.replace("schema = 1", "schema = 2"), "schema", "schema 1", id="wrong-schema-version"),
    pytest.param(VALID.replace('id = "calm3"', 'id = "Calm-3"'), "id", "lower-case", id="bad-instrument-id"),
    pytest.param(
        VALID.replace('[bands_source]\nsource = "Test bands"\nconfirmed = true\n', ""),
        "bands_source",
        "is required",
        id="bands-without-source",
    ),
    pytest.param(
        VALID.replace('respondent = "patient"', 'respondent = "carer"'),
        "respondent",
        "patient, clinician",
        id="unknown-respondent",
    ),
]


@pytest.mark.parametrize(("text", "field", "problem"), BAD_DEFINITIONS)
def test_bad_definition_names_file_and_field(tmp_path: Path, text: str, field: str, problem: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(measures.DefinitionError) as err:
        measures.load_file(path)

    assert err.value.source == "calm3.toml"
    assert err.value.field == field
    assert problem in err.value.problem
    assert str(err.value).startswith(f"calm3.toml: {field}: ")


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("[scoring]", "[scoring"))

    with pytest.raises(measures.DefinitionError) as err:
        measures.load_file(path)

    assert err.value.source == "calm3.toml"
    assert err.value.field == "(file)"
    assert "not valid TOML" in err.value.problem


def test_custom_definition_colliding_with_builtin_id_rejected(tmp_path: Path) -> None:
    write(tmp_path, VALID.replace('id = "calm3"', 'id = "phq9"'), name="my_phq9.toml")

    with pytest.raises(measures.DefinitionError) as err:
        measures.load_directories([measures.BUILTIN_DIR, tmp_path])

    assert err.value.source == "my_phq9.toml"
    assert err.value.field == "id"
    assert "phq9.toml" in err.value.problem


def test_custom_directory_colliding_with_builtin_fails_catalogue_load(
    fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write(tmp_path, VALID.replace('id = "calm3"', 'id = "gad7"'), name="gad7_copy.toml")
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_DIRS", str(tmp_path))
    measures.reload()

    with pytest.raises(measures.DefinitionError, match=r"gad7_copy\.toml: id: 'gad7' is already defined"):
        measures.catalogue()


def test_missing_custom_directory_rejected(fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_DIRS", str(tmp_path / "absent"))
    measures.reload()

    with pytest.raises(measures.DefinitionError, match="is not a directory"):
        measures.get("phq9")


# --- custom instruments -----------------------------------------------------------------------


def test_custom_instrument_from_measures_dirs_in_catalogue_and_scores(
    fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Arrange
    write(tmp_path, VALID)
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_DIRS", str(tmp_path))
    measures.reload()

    # Act
    ids = [i.id for i in measures.catalogue()]
    complete = measures.score("calm3", {"1": 1, "2": 2, "3": 3})
    prorated = measures.score("calm3", {"1": 1, "2": 2})  # 3 × 3 / 2 = 4.5 → 5

    # Assert
    assert "calm3" in ids
    assert "phq9" in ids
    assert ids == sorted(ids)
    assert (complete.total, complete.severity, complete.caseness, complete.risk) == (6, "High", True, ("3",))
    assert (prorated.total, prorated.severity) == (5, "High")


def test_custom_instrument_gone_after_env_restored() -> None:
    """Guards the fixture: nothing from the test above leaks into the catalogue."""
    assert "calm3" not in [i.id for i in measures.catalogue()]


MEAN_SCALE = (
    VALID.replace('method = "sum"\nrange = [0, 9]', 'method = "mean"\nmultiplier = 10\ndecimals = 1\nrange = [0, 30]')
    .replace("max = 4\n", "max = 14.9\n")
    .replace("min = 5\nmax = 9\n", "min = 15.0\nmax = 30\n")
    .replace("at_or_above = 5", "at_or_above = 15")
)


def test_mean_scored_instrument_scores_mean_times_multiplier(tmp_path: Path) -> None:
    inst = measures.load_file(write(tmp_path, MEAN_SCALE))
    compiled = measures.Compiled(inst)

    exact = measures.score_compiled(compiled, {"1": 1, "2": 2, "3": 3})  # mean 2 × 10 = 20
    rounded = measures.score_compiled(compiled, {"1": 1, "2": 2, "3": 2})  # 5/3 × 10 = 16.67 → 16.7
    prorated = measures.score_compiled(compiled, {"1": 0, "3": 1})  # mean 0.5 × 10 = 5

    assert inst.scoring.method == "mean"
    assert inst.scoring.multiplier == 10
    assert (exact.total, exact.severity, exact.caseness) == (20, "High", True)
    assert rounded.total == pytest.approx(16.7, abs=1e-9)
    assert (prorated.total, prorated.prorated, prorated.severity) == (5, True, "Low")


def test_mean_scored_instrument_range_must_be_component_extremes_times_multiplier(tmp_path: Path) -> None:
    with pytest.raises(measures.DefinitionError) as err:
        measures.load_file(write(tmp_path, MEAN_SCALE.replace("range = [0, 30]", "range = [0, 90]")))

    assert err.value.field == "scoring.range"


def test_load_file_overrides_replace_top_level_tables(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)

    inst = measures.load_file(path, {"citation": "Replaced citation."})

    assert inst.citation == "Replaced citation."
    assert inst.source_file == "calm3.toml"


def test_load_file_of_every_shipped_definition_matches_catalogue() -> None:
    for inst in measures.catalogue():
        assert measures.load_file(measures.BUILTIN_DIR / f"{inst.id}.toml") == inst


# --- settings override file -------------------------------------------------------------------


def test_settings_file_changes_phq9_reliable_change_points(fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Arrange
    settings = write(
        tmp_path,
        '[phq9.reliable_change]\npoints = 5\nsource = "Service decision (test)"\nconfirmed = true\n',
        name="settings.toml",
    )
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_SETTINGS", str(settings))
    measures.reload()

    # Act
    inst = measures.get("phq9")
    five_points = measures.change_totals("phq9", 15, 10)

    # Assert
    assert inst.reliable_change is not None
    assert inst.reliable_change.points == 5
    assert inst.reliable_change.sourced.source == "Service decision (test)"
    assert "settings.toml" in inst.source_file
    assert five_points.reliable_change == "improved"
    assert inst.caseness is not None  # merged, not replaced
    assert inst.caseness.value == 10


def test_phq9_reliable_change_back_to_6_after_settings_removed() -> None:
    inst = measures.get("phq9")

    assert inst.reliable_change is not None
    assert inst.reliable_change.points == 6


@pytest.mark.parametrize(
    "settings_text",
    [
        '[[phq9.items]]\nid = "1"\noptions = [{ value = 0 }, { value = 9 }]\n',
        '[phq9]\nid = "phq10"\n',
        "[phq9]\nschema = 2\n",
    ],
    ids=["items", "id", "schema"],
)
def test_settings_file_cannot_change_items_id_or_schema(
    fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path, settings_text: str
) -> None:
    settings = write(tmp_path, settings_text, name="settings.toml")
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_SETTINGS", str(settings))
    measures.reload()

    with pytest.raises(measures.DefinitionError) as err:
        measures.catalogue()

    assert err.value.source == "settings.toml"
    assert err.value.field == "phq9"


def test_settings_file_naming_unknown_instrument_rejected(fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = write(tmp_path, "[phq10.reliable_change]\npoints = 5\n", name="settings.toml")
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_SETTINGS", str(settings))
    measures.reload()

    with pytest.raises(measures.DefinitionError, match=r"settings\.toml: phq10: is not a known instrument"):
        measures.catalogue()


def test_settings_file_value_still_validated(fresh_catalogue: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = write(tmp_path, "[phq9.reliable_change]\npoints = -1\n", name="settings.toml")
    fresh_catalogue.setenv("INTERPERSONAL_MEASURES_SETTINGS", str(settings))
    measures.reload()

    with pytest.raises(measures.DefinitionError) as err:
        measures.catalogue()

    assert err.value.source == "phq9.toml + settings.toml"
    assert err.value.field == "reliable_change.points"


# --- the shipped definitions ------------------------------------------------------------------

SHIPPED = ["bdi2", "core10", "gad7", "hrsd17", "phq9", "qids_sr16", "wsas"]
LICENSED = ["bdi2", "core10", "qids_sr16"]  # item_text = false


def test_catalogue_holds_exactly_the_shipped_instruments() -> None:
    assert [i.id for i in measures.catalogue()] == SHIPPED


@pytest.mark.parametrize("instrument_id", LICENSED)
def test_licensed_instrument_ships_no_item_or_option_text(instrument_id: str) -> None:
    """BDI-II (Pearson), CORE-10 (CC BY-NC-ND), QIDS-SR16 (UT Southwestern): scoring rules only."""
    inst = measures.get(instrument_id)

    assert inst.licence.item_text is False
    for item in inst.items:
        assert item.text is None, item.id
        for option in item.options:
            assert option.label is None or option.label.strip().isdigit(), (item.id, option.label)
        for variant in item.variants:
            assert all(o.label is None or o.label.strip().isdigit() for o in variant.options)


@pytest.mark.parametrize("instrument_id", LICENSED)
def test_licensed_definition_file_has_no_text_keys(instrument_id: str) -> None:
    data = tomllib.loads((measures.BUILTIN_DIR / f"{instrument_id}.toml").read_text(encoding="utf-8"))

    for item in data["items"]:
        assert "text" not in item


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_shipped_instrument_has_citation_licence_and_bands_covering_range(instrument_id: str) -> None:
    inst = measures.get(instrument_id)
    lo, hi = inst.scoring.score_range

    assert len(inst.citation) > 20
    assert inst.licence.name
    assert inst.bands
    assert inst.bands_sourced is not None
    assert inst.bands_sourced.source
    assert inst.bands[0].min == lo
    assert inst.bands[-1].max == hi
    assert inst.missing.sourced.source


@pytest.mark.parametrize(
    ("instrument_id", "n_items", "score_range"),
    [
        ("phq9", 10, (0, 27)),  # 9 scored + the difficulty question
        ("gad7", 8, (0, 21)),
        ("hrsd17", 17, (0, 52)),
        ("bdi2", 21, (0, 63)),
        ("wsas", 5, (0, 40)),
        ("core10", 10, (0, 40)),
        ("qids_sr16", 16, (0, 27)),
    ],
)
def test_shipped_instrument_items_and_range_as_published(
    instrument_id: str, n_items: int, score_range: tuple[int, int]
) -> None:
    """DOMAIN.md §3 and the citations in each definition."""
    inst = measures.get(instrument_id)

    assert len(inst.items) == n_items
    assert inst.scoring.score_range == score_range


def _expected_unconfirmed(data: dict[str, object]) -> set[str]:
    """Read the raw TOML: every table marked ``confirmed = false`` (or without ``confirmed``,
    whose default is false), named as Instrument.unconfirmed() names it."""
    names: set[str] = set()
    tables = {
        "missing": "missing",
        "bands_source": "bands",
        "caseness": "caseness",
        "remission": "remission",
        "reliable_change": "reliable_change",
        "jacobson_truax": "jacobson_truax",
    }
    for key, name in tables.items():
        table = data.get(key)
        if isinstance(table, dict) and not table.get("confirmed", False):
            names.add(name)
    missing = data["missing"]
    assert isinstance(missing, dict)
    if missing["rule"] == "prorate" and missing.get("rounding_confirmed", True) is False:
        names.add("missing.rounding")
    for sub in data.get("subscales", []):  # type: ignore[attr-defined]
        if not sub.get("confirmed", False):
            names.add(f"subscales.{sub['id']}")
    return names


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_unconfirmed_lists_exactly_the_values_marked_unconfirmed(instrument_id: str) -> None:
    data = tomllib.loads((measures.BUILTIN_DIR / f"{instrument_id}.toml").read_text(encoding="utf-8"))

    unconfirmed = measures.get(instrument_id).unconfirmed()

    assert len(set(unconfirmed)) == len(unconfirmed)
    assert set(unconfirmed) == _expected_unconfirmed(data)


def test_unconfirmed_known_values() -> None:
    """A readable snapshot of the settings a service must review (definition files, 2026-11)."""
    assert measures.get("phq9").unconfirmed() == ("jacobson_truax", "missing.rounding")
    assert measures.get("hrsd17").unconfirmed() == ("missing", "reliable_change", "jacobson_truax", "subscales.hamd6")
    assert "bands" in measures.get("core10").unconfirmed()
