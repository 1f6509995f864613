"""Outcome metrics at national scale: the engine against a straightforward DuckDB query.

Run by ``make bench`` (``python bench/outcomes.py``; ``--courses N`` to change the size):

1. generate ``--courses`` (default 1.2 million referrals, DOMAIN.md §4's national year) synthetic
   referrals with ``synth.generate`` — stepped-up referrals with a courses table, problem
   descriptors and ADSM scores — into var/bench/outcomes-v2-<N>-seed<S>/, reused while its
   ``complete`` marker is there;
2. in one run, each in its own subprocess (ru_maxrss is per process, so each gets its own peak):
   the engine, ``service.report(dataset.read(dir))``, and the baseline,
   bench/support/outcomes_duckdb.py (one SQL query of the same metrics over the same Parquet
   files), each best of ``--repeat`` (3);
3. check that the two agree (every count equal, every rate within 1e-12, overall and by therapy)
   and stop with an error if not; print seconds, peak MB and the ratio engine / DuckDB.
   Goal (issue 13): engine ≤ 1.0× DuckDB's time and ≤ 1 GB peak. Absolute times depend on the
   machine; the ratio is the result (STYLE.md 18).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
GOAL_RATIO = 1.0
GOAL_PEAK_MB = 1024


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss across
    exec, so a worker started by a parent that had generated the data would report the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- in a subprocess ----------------------------------------------------------------------------

def _engine(directory: str, repeat: int) -> dict:
    from interpersonal.core.outcomes import dataset, service

    times, report = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        report = service.report(dataset.read(directory))
        times.append(time.perf_counter() - start)
    assert report is not None
    return {"seconds": min(times), "times": times, "peak_mb": _peak_mb(), "report": _numbers(report)}


def _duckdb(directory: str, repeat: int) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
    from outcomes_duckdb import baseline_report

    times, report = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        report = baseline_report(directory)
        times.append(time.perf_counter() - start)
    assert report is not None
    return {"seconds": min(times), "times": times, "peak_mb": _peak_mb(), "report": report}


def _numbers(report: dict) -> dict:
    keep = lambda group: {k: v for k, v in group.items() if isinstance(v, int | float) or v is None}  # noqa: E731
    return {"overall": keep(report["overall"]), "by_therapy": {t: keep(g) for t, g in report["by_therapy"].items()}}


def disagreements(baseline: dict, engine: dict) -> list[str]:
    """Where the engine's report differs from the baseline's: counts exactly, rates to 1e-12."""
    found = []
    pairs = [("overall", baseline["overall"], engine["overall"])]
    if set(baseline["by_therapy"]) != set(engine["by_therapy"]):
        found.append(f"therapies {sorted(baseline['by_therapy'])} != {sorted(engine['by_therapy'])}")
    pairs += [(t, g, engine["by_therapy"].get(t, {})) for t, g in baseline["by_therapy"].items()]
    for where, want_group, have_group in pairs:
        for name, want in want_group.items():
            have = have_group.get(name, "missing")
            same = have == want if want is None or isinstance(want, int) else (
                isinstance(have, float) and abs(have - want) <= 1e-12)
            if not same:
                found.append(f"{where}.{name}: DuckDB {want!r}, engine {have!r}")
    return found


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

    directory = VAR / f"outcomes-v2-{courses}-seed{seed}"
    marker = directory / "complete"
    if marker.exists():
        return directory, None
    print(f"generating {courses:,} referrals (seed {seed}) into {directory} …", flush=True)

    def progress(done: int, total: int) -> None:
        print(f"\r  {done:,}/{total:,}", end="", flush=True)

    start = time.perf_counter()
    synth.generate(courses=courses, seed=seed, out=directory, progress=progress)
    seconds = time.perf_counter() - start
    print(f"\r  {courses:,} referrals in {seconds:.1f} s", flush=True)
    marker.write_text(json.dumps({"courses": courses, "seed": seed, "seconds": seconds}))
    return directory, seconds


def _rows(directory: Path) -> dict[str, int]:
    import polars as pl

    return {
        name: pl.scan_parquet(directory / f"{name}.parquet").select(pl.len()).collect().item()
        for name in ("referrals", "courses", "contacts", "scores")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=1_200_000, help="referrals to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best counts")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        kind, directory = args.worker[0], args.worker[1]
        result = _engine(directory, args.repeat) if kind == "engine" else _duckdb(directory, args.repeat)
        print(json.dumps(result))
        return

    directory, synth_seconds = _dataset(args.courses, args.seed)
    rows = _rows(directory)
    print(f"\noutcomes at national scale: {rows['referrals']:,} referrals, {rows['courses']:,} courses, "
          f"{rows['contacts']:,} contacts, {rows['scores']:,} scores ({directory})")
    if synth_seconds is not None:
        print(f"synth.generate: {synth_seconds:.1f} s, peak {_peak_mb():,.0f} MB")

    engine = _run("engine", str(directory), "--repeat", str(args.repeat))
    duck = _run("duckdb", str(directory), "--repeat", str(args.repeat))
    differences = disagreements(duck["report"], engine["report"])

    print()
    print(f"{'':<8} {'seconds':>9} {'peak MB':>9}  runs")
    for name, side in (("engine", engine), ("duckdb", duck)):
        print(f"{name:<8} {side['seconds']:>9.2f} {side['peak_mb']:>9,.0f}  " + ", ".join(f"{t:.2f}" for t in side["times"]))
    ratio = engine["seconds"] / duck["seconds"]
    print(f"\nengine / DuckDB: time {ratio:.2f}× (goal ≤ {GOAL_RATIO:.1f}×), "
          f"peak memory {engine['peak_mb'] / duck['peak_mb']:.2f}×")
    print(f"engine peak: {engine['peak_mb']:,.0f} MB (goal ≤ {GOAL_PEAK_MB:,} MB)")
    if differences:
        print("the engine and DuckDB DISAGREE:\n  " + "\n  ".join(differences[:20]))
        raise SystemExit(1)
    print("overall and by-therapy counts and rates: identical")


if __name__ == "__main__":
    main()
