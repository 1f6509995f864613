"""The six Shrout & Fleiss intraclass correlations (interpersonal/core/fidelity/icc.py).

Checked three ways: the published worked example (Shrout & Fleiss 1979, Tables 2–4); an
independent implementation written below from the two-way ANOVA formulas with numpy and the
standard library only (its own F distribution, not scipy's) on seeded random tables; and a
simulation from a two-way random-effects model whose ICC is known. pingouin, the library the
project first meant to call, is a fourth cross-check.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from interpersonal.core.fidelity import icc
from interpersonal.core.fidelity.errors import FidelityError, RatingsError, UnbalancedRatings

# Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater reliability.
# Psychol Bull 86(2):420–428. Table 2: four judges (columns) rate six targets (rows).
SHROUT_FLEISS_TABLE_2 = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def long_rows(table, raters="ABCDEFGHIJ"):
    return [icc.Rating(f"T{i + 1}", raters[j], value) for i, row in enumerate(table) for j, value in enumerate(row)]


# --- The published example -------------------------------------------------------------------


def test_shrout_fleiss_table_2_reproduces_the_six_published_iccs():
    # Shrout & Fleiss (1979), Table 4: ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71,
    # ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91.
    published = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}

    result = icc.compute(long_rows(SHROUT_FLEISS_TABLE_2))

    assert {i.type: round(i.icc, 2) for i in result.iccs} == published
    assert [i.type for i in result.iccs] == list(icc.ICC_TYPES)


def test_shrout_fleiss_table_2_reproduces_the_published_mean_squares():
    # Shrout & Fleiss (1979), Table 3 (analysis of variance of Table 2): between targets 11.24
    # (df 5), within targets 6.26 (df 18), between judges 32.49 (df 3), residual 1.02 (df 15).
    result = icc.compute(long_rows(SHROUT_FLEISS_TABLE_2))
    ms = result.mean_squares

    assert (round(ms.between_targets, 2), round(ms.within_targets, 2)) == (11.24, 6.26)
    assert (round(ms.between_raters, 2), round(ms.residual, 2)) == (32.49, 1.02)
    assert (result.n_targets, result.n_raters) == (6, 4)
    assert [(i.df1, i.df2) for i in result.iccs] == [(5, 18), (5, 15), (5, 15), (5, 18), (5, 15), (5, 15)]


def test_module_docstring_example_runs():
    failures, tried = doctest.testmod(icc)
    assert (failures, tried > 0) == (0, True)


# --- An independent implementation: numpy and the standard library only ------------------------


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) by Lentz's continued fraction (Press et al.,
    Numerical Recipes, 3rd ed., §6.4), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(b, a, 1.0 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 10_000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * f


def f_cdf(x: float, d1: float, d2: float) -> float:
    return _betainc(d1 / 2, d2 / 2, d1 * x / (d1 * x + d2)) if x > 0 else 0.0


def f_quantile(q: float, d1: float, d2: float) -> float:
    low, high = 0.0, 1.0
    while f_cdf(high, d1, d2) < q:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if f_cdf(mid, d1, d2) < q else (low, mid)
    return (low + high) / 2


def reference_iccs(x: np.ndarray) -> dict[str, tuple[float, float, float, float, int, int, float]]:
    """type → (icc, ci low, ci high, F, df1, df2, p): Shrout & Fleiss (1979) Table 1 and
    pp. 423–425 for the ICCs and intervals, McGraw & Wong (1996) Table 7 for the k-rater
    intervals and the F tests. Written from the papers, not from the module under test."""
    n, k = x.shape
    grand = x.mean()
    ss_total = ((x - grand) ** 2).sum()
    ss_targets = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_raters = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_residual = ss_total - ss_targets - ss_raters
    bms, jms = ss_targets / (n - 1), ss_raters / (k - 1)
    ems = ss_residual / ((n - 1) * (k - 1))
    wms = (ss_raters + ss_residual) / (n * (k - 1))
    out = {}
    # Case 1 (one-way random).
    f_o = bms / wms
    d1, d2 = n - 1, n * (k - 1)
    fl, fu = f_o / f_quantile(0.975, d1, d2), f_o * f_quantile(0.975, d2, d1)
    p = 1 - f_cdf(f_o, d1, d2)
    out["ICC1"] = ((bms - wms) / (bms + (k - 1) * wms), (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1), f_o, d1, d2, p)
    out["ICC1k"] = (1 - wms / bms, 1 - 1 / fl, 1 - 1 / fu, f_o, d1, d2, p)
    # Case 3 (two-way mixed, consistency).
    f_o = bms / ems
    d2 = (n - 1) * (k - 1)
    fl, fu = f_o / f_quantile(0.975, d1, d2), f_o * f_quantile(0.975, d2, d1)
    p = 1 - f_cdf(f_o, d1, d2)
    out["ICC3"] = ((bms - ems) / (bms + (k - 1) * ems), (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1), f_o, d1, d2, p)
    out["ICC3k"] = (1 - ems / bms, 1 - 1 / fl, 1 - 1 / fu, f_o, d1, d2, p)
    # Case 2 (two-way random, absolute agreement): McGraw & Wong's a, b form of Satterthwaite's v.
    rho = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    a = k * rho / (n * (1 - rho))
    b = 1 + k * rho * (n - 1) / (n * (1 - rho))
    v = (a * jms + b * ems) ** 2 / ((a * jms) ** 2 / (k - 1) + (b * ems) ** 2 / ((n - 1) * (k - 1)))
    fs_low, fs_high = f_quantile(0.975, n - 1, v), f_quantile(0.975, v, n - 1)
    low = n * (bms - fs_low * ems) / (fs_low * (k * jms + (k * n - k - n) * ems) + n * bms)
    high = n * (fs_high * bms - ems) / (k * jms + (k * n - k - n) * ems + n * fs_high * bms)
    out["ICC2"] = (rho, low, high, f_o, d1, d2, p)
    # McGraw & Wong Table 7, ICC(A,k): the same F* and v, their own formula.
    rho_k = (bms - ems) / (bms + (jms - ems) / n)
    # Below ICC(A,1)'s floor −1/(k − 1) the step-up has its pole: the interval is unbounded below.
    low_k = -math.inf if low <= -1 / (k - 1) else n * (bms - fs_low * ems) / (fs_low * (jms - ems) + n * bms)
    high_k = n * (fs_high * bms - ems) / (jms - ems + n * fs_high * bms)
    out["ICC2k"] = (rho_k, low_k, high_k, f_o, d1, d2, p)
    return out


def random_tables(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n, k = int(rng.integers(3, 41)), int(rng.integers(2, 9))
        target_sd, rater_sd, error_sd = rng.uniform(0.1, 3.0, size=3)
        table = (rng.normal(0, target_sd, (n, 1)) + rng.normal(0, rater_sd, (1, k)) + rng.normal(0, error_sd, (n, k)))
        if rng.random() < 0.5:
            table = np.round(table * 2) / 2 + 3  # rating-scale-like half points
        yield table


def test_agrees_with_an_independent_implementation_on_random_balanced_tables():
    checked = 0
    for table in random_tables(60, seed=1979):
        try:
            result = icc.compute_matrix(table)
        except RatingsError:
            continue  # rounding may leave no residual variation; that refusal is tested below
        expected = reference_iccs(table)
        for got in result.iccs:
            value, low, high, f, df1, df2, p = expected[got.type]
            assert got.icc == pytest.approx(value, rel=1e-9, abs=1e-12), got.type
            assert got.ci95[0] == pytest.approx(low, rel=1e-7, abs=1e-9), got.type
            assert got.ci95[1] == pytest.approx(high, rel=1e-7, abs=1e-9), got.type
            assert got.f == pytest.approx(f, rel=1e-9), got.type
            assert (got.df1, got.df2) == (df1, df2)
            assert got.p == pytest.approx(p, rel=1e-6, abs=1e-12), got.type
        checked += 1
    assert checked >= 50


# pingouin 0.7.0 calls DataFrame.dropna(inplace=True), which pandas 3.1 deprecates with this warning.
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_agrees_with_pingouin_with_its_rounding_turned_off(monkeypatch):
    import pandas as pd
    import pingouin

    # pingouin rounds its CI95 column to 2 decimals by default (pingouin/config.py); off for the comparison.
    monkeypatch.setitem(pingouin.options, "round.column.CI95", None)
    names = {"ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)",
             "ICC1k": "ICC(1,k)", "ICC2k": "ICC(A,k)", "ICC3k": "ICC(C,k)"}
    wrapped = 0
    for table in random_tables(8, seed=2016):
        frame = pd.DataFrame([(i, j, v) for i, row in enumerate(table) for j, v in enumerate(row)],
                             columns=["target", "rater", "rating"])
        theirs = pingouin.intraclass_corr(frame, targets="target", raters="rater", ratings="rating").set_index("Type")
        ours = icc.compute_matrix(table)
        for got in ours.iccs:
            row = theirs.loc[names[got.type]]
            assert got.icc == pytest.approx(row["ICC"], rel=1e-9)
            if got.type == "ICC2k" and got.ci95[0] == -math.inf:
                # ICC2's lower end is below −1/(k − 1): pingouin steps it up through the pole and
                # prints a lower end above the upper one; ours is unbounded below (icc.py docstring).
                wrapped += 1
                assert row["CI95"][0] > row["CI95"][1]
                assert got.ci95[1] == pytest.approx(row["CI95"][1], rel=1e-9)
                continue
            assert list(got.ci95) == pytest.approx(list(row["CI95"]), rel=1e-9)
            assert got.p == pytest.approx(row["pval"], rel=1e-9, abs=1e-15)
    assert wrapped < 8  # most tables compare end to end


# --- Simulation with a known truth -------------------------------------------------------------


def test_two_way_random_simulation_small_bias_and_near_nominal_coverage():
    # x_ij = mu + r_i + c_j + e_ij with var(r) = 0.6, var(c) = 0.1, var(e) = 0.3: ICC(2,1) =
    # 0.6 / (0.6 + 0.1 + 0.3) = 0.6 (McGraw & Wong 1996, Table 4, Case 2A) and, treating the
    # raters as fixed, ICC(3,1) = 0.6 / (0.6 + 0.3) (Case 3A). 1000 replicates of 30 targets × 4 raters.
    rng = np.random.default_rng(20261205)
    replicates, n, k = 1000, 30, 4
    var_target, var_rater, var_error = 0.6, 0.1, 0.3
    true_icc2 = var_target / (var_target + var_rater + var_error)
    true_icc3 = var_target / (var_target + var_error)
    estimates, covered2, covered3 = [], 0, 0
    for _ in range(replicates):
        table = (5 + rng.normal(0, math.sqrt(var_target), (n, 1)) + rng.normal(0, math.sqrt(var_rater), (1, k))
                 + rng.normal(0, math.sqrt(var_error), (n, k)))
        result = icc.compute_matrix(table)
        icc2, icc3 = result.get("ICC2"), result.get("ICC3")
        estimates.append(icc2.icc)
        covered2 += icc2.ci95[0] <= true_icc2 <= icc2.ci95[1]
        covered3 += icc3.ci95[0] <= true_icc3 <= icc3.ci95[1]

    # Bias: the ANOVA estimator is a ratio of mean squares, slightly biased in small samples;
    # 0.02 is about four Monte Carlo standard errors (sd of the estimate ≈ 0.09 / √1000 ≈ 0.003)
    # plus that small-sample bias.
    assert abs(float(np.mean(estimates)) - true_icc2) < 0.02
    # Coverage: within three binomial standard errors of 0.95 (√(0.95 × 0.05 / 1000) ≈ 0.0069).
    tolerance = 3 * math.sqrt(0.95 * 0.05 / replicates)
    assert abs(covered2 / replicates - 0.95) < tolerance
    assert abs(covered3 / replicates - 0.95) < tolerance


# --- Bands (Koo & Li 2016: < 0.5 poor, 0.5–0.75 moderate, 0.75–0.9 good, > 0.90 excellent) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [(-0.2, "poor"), (0.0, "poor"), (0.4999, "poor"), (0.5, "moderate"), (0.7499, "moderate"),
     (0.75, "good"), (0.9, "good"), (0.9001, "excellent"), (1.0, "excellent")],
)
def test_koo_li_band_edges(value, band):
    assert icc.band_of(value) == band


def test_the_interval_may_span_bands_and_both_ends_are_reported():
    # Shrout & Fleiss Table 2, ICC(2,1) = 0.29 with 95% CI 0.02 to 0.76 (computed): poor, from poor to good.
    icc2 = icc.compute(long_rows(SHROUT_FLEISS_TABLE_2)).get("ICC2")

    assert icc2.band == "poor"
    assert icc2.ci_bands == ("poor", "good")
    assert icc2.band_text() == "poor (95% CI: poor to good)"


def test_every_type_names_its_model_unit_and_definition_in_both_nomenclatures():
    kinds = [icc.KINDS[t] for t in icc.ICC_TYPES]

    assert [k.shrout_fleiss for k in kinds] == ["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"]
    assert [k.mcgraw_wong for k in kinds] == ["ICC(1)", "ICC(A,1)", "ICC(C,1)", "ICC(k)", "ICC(A,k)", "ICC(C,k)"]
    assert [k.model for k in kinds] == ["one-way random", "two-way random", "two-way mixed"] * 2
    assert [k.definition for k in kinds] == ["absolute agreement", "absolute agreement", "consistency"] * 2
    assert {k.unit for k in kinds[:3]} == {"single rater"}
    assert {k.unit for k in kinds[3:]} == {"average of k raters"}


def test_to_dict_is_the_json_contract():
    data = icc.compute(long_rows(SHROUT_FLEISS_TABLE_2)).to_dict()

    assert set(data) == {"icc", "n_targets", "n_raters"}
    assert [row["type"] for row in data["icc"]] == list(icc.ICC_TYPES)
    assert all(set(row) == {"type", "icc", "ci95", "f", "df1", "df2", "p"} for row in data["icc"])
    assert (data["n_targets"], data["n_raters"]) == (6, 4)


# --- Refused designs -------------------------------------------------------------------------


def test_a_target_missing_a_rater_is_named():
    rows = [r for r in long_rows(SHROUT_FLEISS_TABLE_2) if not (r.target == "T3" and r.rater == "B")]

    with pytest.raises(UnbalancedRatings) as caught:
        icc.compute(rows)

    assert "target T3 has no rating from rater B" in str(caught.value)
    assert caught.value.gaps == ("target T3 has no rating from rater B",)


def test_a_duplicated_target_rater_pair_is_named():
    rows = [*long_rows(SHROUT_FLEISS_TABLE_2), icc.Rating("T2", "C", 4)]

    with pytest.raises(UnbalancedRatings, match="target T2 is rated more than once by rater C"):
        icc.compute(rows)


def test_every_gap_is_named_not_only_the_first():
    rows = [r for r in long_rows(SHROUT_FLEISS_TABLE_2) if (r.target, r.rater) not in {("T1", "A"), ("T6", "D")}]

    with pytest.raises(UnbalancedRatings) as caught:
        icc.compute(rows)

    assert caught.value.gaps == ("target T1 has no rating from rater A", "target T6 has no rating from rater D")


def test_a_long_list_of_gaps_is_shortened_with_a_count():
    rows = [icc.Rating(f"T{i}", "A", i) for i in range(30)] + [icc.Rating("T0", "B", 1)]

    with pytest.raises(UnbalancedRatings) as caught:
        icc.compute(rows)

    assert len(caught.value.gaps) == 29
    assert str(caught.value).endswith("; and 9 more")


@pytest.mark.parametrize(
    ("rows", "gap"),
    [
        ([icc.Rating("T1", "A", 1), icc.Rating("T2", "A", 2)], "1 rater: at least 2 are needed"),
        ([icc.Rating("T1", "A", 1), icc.Rating("T1", "B", 2)], "1 target: at least 2 are needed"),
        ([], "0 targets: at least 2 are needed"),
    ],
)
def test_fewer_than_two_raters_or_targets_is_refused(rows, gap):
    with pytest.raises(UnbalancedRatings, match=gap):
        icc.compute(rows)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "3", None, True])
def test_a_rating_that_is_not_a_finite_number_is_refused_naming_target_and_rater(bad):
    rows = [*long_rows(SHROUT_FLEISS_TABLE_2)[:-1], icc.Rating("T6", "D", bad)]

    with pytest.raises(RatingsError, match=r"target T6, rater D: the rating .* is not a finite number"):
        icc.compute(rows)


@pytest.mark.parametrize(("target", "rater", "message"),
                         [("", "A", "row 1: the target is blank"), ("T1", "  ", "row 1: the rater is blank"),
                          ("T" * 101, "A", "longer than 100 characters")])
def test_blank_or_overlong_ids_are_refused(target, rater, message):
    with pytest.raises(RatingsError, match=message):
        icc.compute([icc.Rating(target, rater, 1.0)])


def test_ids_are_trimmed_so_a_stray_space_is_not_a_new_rater():
    rows = [icc.Rating(r.target, f" {r.rater} ", r.rating) for r in long_rows(SHROUT_FLEISS_TABLE_2)]

    assert icc.compute(rows).raters == ("A", "B", "C", "D")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([[3, 3], [3, 3], [3, 3]], "every rating is 3"),
        ([[1, 2], [1, 2], [1, 2]], "targets' mean ratings do not differ"),
        ([[1, 1], [2, 2], [4, 4]], "no residual variation"),
        ([[1, 2], [2, 3], [4, 5]], "no residual variation"),
    ],
)
def test_degenerate_tables_are_refused_with_the_reason(table, message):
    with pytest.raises(RatingsError, match=message):
        icc.compute(long_rows(table))


def test_raters_disagreeing_beyond_chance_are_refused_as_icc2k_is_undefined():
    # n·BMS + JMS = EMS here: ICC(2,1) sits exactly on its floor −1/(k − 1) = −1 (found by Hypothesis).
    with pytest.raises(RatingsError, match="disagree more than chance allows"):
        icc.compute(long_rows([[1, 1], [1, 2], [2, 1]]))


def test_an_icc2_interval_below_its_floor_leaves_icc2k_unbounded_below():
    # Five recordings, two raters agreeing little: ICC(2,1)'s lower bound is below −1, where the
    # step-up to ICC(2,k) has its pole; the ICC(2,k) interval is then (−∞, upper].
    table = [[3, 2], [2, 4], [4, 3], [3, 5], [5, 3]]

    result = icc.compute(long_rows(table))

    assert result.get("ICC2").ci95[0] < -1
    assert result.get("ICC2k").ci95[0] == -math.inf
    assert result.get("ICC2k").ci95[1] == pytest.approx(
        2 * result.get("ICC2").ci95[1] / (1 + result.get("ICC2").ci95[1]))
    assert result.get("ICC2k").to_dict()["ci95"][0] is None
    assert result.get("ICC2k").ci_bands == ("poor", icc.band_of(result.get("ICC2k").ci95[1]))


def test_errors_belong_to_the_fidelity_hierarchy():
    assert issubclass(UnbalancedRatings, RatingsError)
    assert issubclass(RatingsError, FidelityError)
    assert issubclass(RatingsError, ValueError)


# --- Properties: what any ICC must satisfy -----------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


@st.composite
def tables(draw):
    n, k = draw(st.integers(3, 12)), draw(st.integers(2, 6))
    return draw(arrays(np.float64, (n, k), elements=st.integers(1, 5).map(float)))


def _or_refused(table):
    try:
        return icc.compute_matrix(table)
    except RatingsError:
        return None


@settings(max_examples=60, deadline=None)
@given(table=tables(), data=st.data())
def test_order_of_targets_and_raters_does_not_matter(table, data):
    rows = data.draw(st.permutations(range(table.shape[0])))
    cols = data.draw(st.permutations(range(table.shape[1])))
    first, shuffled = _or_refused(table), _or_refused(table[np.ix_(rows, cols)])

    assert (first is None) == (shuffled is None)
    if first is not None:
        for a, b in zip(first.iccs, shuffled.iccs, strict=True):
            assert a.icc == pytest.approx(b.icc, abs=1e-9)
            assert a.ci95 == pytest.approx(b.ci95, abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(table=tables(), scale=st.floats(0.1, 20), shift=st.floats(-50, 50))
def test_a_change_of_scale_units_does_not_change_the_iccs(table, scale, shift):
    # ICCs are ratios of variance components: invariant under x -> a x + b, a > 0 (Shrout & Fleiss 1979).
    first, rescaled = _or_refused(table), _or_refused(table * scale + shift)

    if first is not None and rescaled is not None:
        for a, b in zip(first.iccs, rescaled.iccs, strict=True):
            assert a.icc == pytest.approx(b.icc, abs=1e-7)
            assert a.p == pytest.approx(b.p, rel=1e-6, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(table=tables())
def test_each_interval_holds_its_estimate_and_single_rater_icc_is_at_most_its_average(table):
    result = _or_refused(table)

    if result is not None:
        for i in result.iccs:
            if i.type in ("ICC2", "ICC2k") and result.get("ICC2").icc < 0:
                # Satterthwaite's approximate interval (Shrout & Fleiss p. 425) need not contain a
                # negative estimate: e.g. [[1, 4], [4, 1], [4, 1], [5, 1]] gives ICC2 = −0.87 with
                # CI −0.911 to −0.910. The exact F-based intervals of the other four always do.
                continue
            assert i.ci95[0] <= i.icc + 1e-9
            assert i.icc <= i.ci95[1] + 1e-9
            assert i.icc <= 1
            assert 0 <= i.p <= 1
        for single, average in (("ICC1", "ICC1k"), ("ICC2", "ICC2k"), ("ICC3", "ICC3k")):
            if result.get(single).icc > 0:
                assert result.get(single).icc <= result.get(average).icc + 1e-12


# --- Per rater pair -------------------------------------------------------------------------


def test_by_rater_pair_uses_the_targets_each_pair_shares():
    rows = long_rows(SHROUT_FLEISS_TABLE_2)
    # D rates only the first four targets; A, B, C all six.
    rows = [r for r in rows if not (r.rater == "D" and r.target in {"T5", "T6"})]

    pairs = {p.raters: p for p in icc.by_rater_pair(rows, min_shared=4)}

    assert list(pairs) == [("A", "B"), ("A", "C"), ("A", "D"), ("B", "C"), ("B", "D"), ("C", "D")]
    assert pairs[("A", "B")].n_shared == 6
    assert pairs[("A", "D")].n_shared == 4
    expected = icc.compute([r for r in rows if r.rater in "AB"]).get("ICC2").icc
    assert pairs[("A", "B")].result.get("ICC2").icc == pytest.approx(expected)
    assert pairs[("A", "D")].result.targets == ("T1", "T2", "T3", "T4")


def test_a_pair_with_too_few_shared_targets_has_a_reason_not_a_result():
    rows = [r for r in long_rows(SHROUT_FLEISS_TABLE_2) if not (r.rater == "D" and r.target in {"T5", "T6"})]

    pair = next(p for p in icc.by_rater_pair(rows) if p.raters == ("A", "D"))

    assert pair.result is None
    assert pair.reason == "not enough shared ratings (4 of 5 targets)"


def test_a_pair_in_exact_agreement_says_why_there_is_no_icc():
    rows = [icc.Rating(f"T{t}", r, float(t)) for t in range(6) for r in "AB"]

    (pair,) = icc.by_rater_pair(rows)

    assert pair.result is None
    assert "no residual variation" in pair.reason


def test_by_rater_pair_refuses_a_repeated_pair_and_a_bad_minimum():
    with pytest.raises(UnbalancedRatings, match="target T1 is rated more than once by rater A"):
        icc.by_rater_pair([icc.Rating("T1", "A", 1), icc.Rating("T1", "A", 2)])
    with pytest.raises(RatingsError, match="min_shared"):
        icc.by_rater_pair([], min_shared=1)
