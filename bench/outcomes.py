"""Outcome metrics at national scale: the engine against a straightforward pandas baseline.

Run by ``make bench`` (``python bench/outcomes.py``; ``--courses N`` to change the size):

1. generate ``--courses`` (default 1.2 million, DOMAIN.md §4's national year: ~14 M contacts,
   ~21 M scores) synthetic courses with ``synth.generate`` into var/bench/outcomes-<N>-seed<S>/,
   reused while its ``complete`` marker is there;
2. in one run, each in its own subprocess (ru_maxrss is per process, so each gets its own peak):
   the engine, ``service.report(dataset.read(dir))``, best of ``--repeat`` (3); and the baseline,
   bench/support/outcomes_baseline.py, once. If the baseline on a 10% sample of referrals (with their
   contacts and scores) suggests the full run would exceed ~5 minutes, its full-size time is
   that sample's ×10, and the output says so;
3. print seconds, peak MB, rows and the ratio baseline/engine. Goal: ≥ 10×, engine ≤ 5 s and
   ≤ 4 GB. Absolute times depend on the machine; the ratio is the result (STYLE.md 18).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
BASELINE_BUDGET = 300.0
"""Seconds: a baseline expected to take longer runs on a 10% sample, scaled."""
SAMPLE = 0.10


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- in a subprocess ----------------------------------------------------------------------------

def _engine(directory: str, repeat: int) -> dict:
    from interpersonal.core.outcomes import dataset, service

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        report = service.report(dataset.read(directory))
        times.append(time.perf_counter() - start)
    return {"seconds": min(times), "times": times, "peak_mb": _peak_mb(), "overall": _counts(report["overall"])}


def _baseline(directory: str) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
    from outcomes_baseline import baseline_report

    start = time.perf_counter()
    report = baseline_report(directory)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb(), "overall": _counts(report["overall"])}


def _counts(overall: dict) -> dict:
    return {k: v for k, v in overall.items() if isinstance(v, int | float) or v is None}


def _agree(baseline: dict, engine: dict) -> bool:
    """The baseline's every count equal, every rate within 1e-12, in the engine's report."""
    for name, want in baseline.items():
        have = engine.get(name, "missing")
        if want is None or isinstance(want, int):
            if have != want:
                return False
        elif have is None or have == "missing" or abs(have - want) > 1e-12:
            return False
    return True


def _run(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False, cwd=ROOT,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"worker {args[0]} failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the benchmark ------------------------------------------------------------------------------

def _dataset(courses: int, seed: int) -> tuple[Path, float | None]:
    from interpersonal.core.outcomes import synth

    directory = VAR / f"outcomes-{courses}-seed{seed}"
    marker = directory / "complete"
    if marker.exists():
        return directory, None
    print(f"generating {courses:,} courses (seed {seed}) into {directory.relative_to(ROOT)} …", flush=True)

    def progress(done: int, total: int) -> None:
        print(f"\r  {done:,}/{total:,}", end="", flush=True)

    start = time.perf_counter()
    synth.generate(courses=courses, seed=seed, out=directory, progress=progress)
    seconds = time.perf_counter() - start
    print(f"\r  {courses:,} courses in {seconds:.1f} s", flush=True)
    marker.write_text(json.dumps({"courses": courses, "seed": seed, "seconds": seconds}))
    return directory, seconds


def _sample(directory: Path, seed: int) -> Path:
    """10% of referrals with all their contacts and scores (reused like the dataset)."""
    import polars as pl

    target = directory / "sample10"
    marker = target / "complete"
    if marker.exists():
        return target
    target.mkdir(exist_ok=True)
    chosen = (
        pl.scan_parquet(directory / "referrals.parquet")
        .filter((pl.col("referral_id").hash(seed) % 1000) < int(SAMPLE * 1000))
    )
    chosen.sink_parquet(target / "referrals.parquet")
    ids = pl.scan_parquet(target / "referrals.parquet").select("referral_id")
    for name in ("contacts", "scores"):
        pl.scan_parquet(directory / f"{name}.parquet").join(ids, on="referral_id", how="semi", maintain_order="left").sink_parquet(target / f"{name}.parquet")
    marker.write_text("")
    return target


def _rows(directory: Path) -> dict[str, int]:
    import polars as pl

    return {
        name: pl.scan_parquet(directory / f"{name}.parquet").select(pl.len()).collect().item()
        for name in ("referrals", "contacts", "scores")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=1_200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="engine runs; the best counts")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        kind, directory = args.worker[0], args.worker[1]
        result = _engine(directory, args.repeat) if kind == "engine" else _baseline(directory)
        print(json.dumps(result))
        return

    directory, synth_seconds = _dataset(args.courses, args.seed)
    rows = _rows(directory)
    print(f"\noutcomes at national scale: {rows['referrals']:,} referrals, {rows['contacts']:,} contacts, "
          f"{rows['scores']:,} scores ({directory.relative_to(ROOT)})")
    if synth_seconds is not None:
        print(f"synth.generate: {synth_seconds:.1f} s ({args.courses / synth_seconds:,.0f} courses/s), "
              f"peak {_peak_mb():,.0f} MB")

    engine = _run("engine", str(directory), "--repeat", str(args.repeat))

    sample = _sample(directory, args.seed)
    sampled = _run("baseline", str(sample))
    sample_share = _rows(sample)["referrals"] / rows["referrals"]
    scaled = sampled["seconds"] / sample_share
    if scaled <= BASELINE_BUDGET:
        baseline = _run("baseline", str(directory))
        baseline_note = "full dataset, once"
        agree = _agree(baseline["overall"], engine["overall"])
    else:
        baseline = {"seconds": scaled, "peak_mb": math.nan, "overall": None}
        baseline_note = (f"ESTIMATED: a {sample_share:.1%} sample took {sampled['seconds']:.1f} s "
                         f"(peak {sampled['peak_mb']:,.0f} MB); scaled ×{1 / sample_share:.1f}")
        agree = None

    print()
    print(f"{'':<10} {'seconds':>9} {'peak MB':>9}  note")
    print(f"{'engine':<10} {engine['seconds']:>9.2f} {engine['peak_mb']:>9,.0f}  best of {args.repeat}: "
          + ", ".join(f"{t:.2f}" for t in engine["times"]))
    print(f"{'baseline':<10} {baseline['seconds']:>9.2f} {baseline['peak_mb']:>9,.0f}  {baseline_note}")
    print(f"{'sample':<10} {sampled['seconds']:>9.2f} {sampled['peak_mb']:>9,.0f}  baseline on {sample_share:.1%} of referrals")
    ratio = baseline["seconds"] / engine["seconds"]
    memory = baseline["peak_mb"] / engine["peak_mb"]
    print(f"\nbaseline / engine: time {ratio:.1f}× (goal ≥ 10×), peak memory {memory:.1f}×")
    print(f"engine: {engine['seconds']:.2f} s (goal ≤ 5 s), {engine['peak_mb'] / 1024:.2f} GB (goal ≤ 4 GB)")
    if agree is not None:
        print(f"overall counts and rates identical: {'yes' if agree else 'NO'}")


if __name__ == "__main__":
    main()
