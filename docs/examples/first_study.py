"""A small study end to end with the Python API: do slower couriers to patients' homes matter for
the direct-to-patient trial?  Run it with ``python docs/examples/first_study.py [REPS] [OUT]``.

1. load a scenario and look at it;
2. run it and read the headline metrics as a DataFrame;
3. compare it with a what-if under common random numbers (paired differences with CIs);
4. sweep one factor as a batch and tabulate the response;
5. reopen a results folder later, as a reader of the study would.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sim import api

HERE = Path(__file__).resolve().parents[2]


def main(reps: int = 20, out: Path = Path("results/first-study")) -> dict:
    # 1. The scenario: a file, a dict or the embedded default, with overrides validated like the file.
    dtp = api.load(HERE / "scenarios" / "clinical_dtp.yaml")
    print(f"{dtp.name}: horizon {dtp.horizon:g} days, {sum(t.n_sites for t in dtp.trials)} sites")

    # 2. Replications -> a results folder -> DataFrames.
    base = api.run(dtp, reps=reps, out=out / "base", overwrite=True, figures=False, progress=False)
    summary = base.summary.set_index("metric")
    print(summary.loc[["dosed_fraction", "total.visits.not_dosed", "waste.kits"],
                      ["mean", "ci_low", "ci_high", "interval"]].to_string())

    # 3. A what-if against the baseline with common random numbers: couriers to patients' homes take
    #    twice as long (overrides as a dict, or as the CLI's PATH=VALUE text).
    slow = {"network.countries.US.home_lane.transit_time": {"dist": "triangular", "low": 2, "mode": 4, "high": 6},
            "network.countries.CA.home_lane.transit_time": {"dist": "triangular", "low": 4, "mode": 6, "high": 10}}
    cmp = api.compare(dtp, dtp, set_b=slow, labels=("base", "slow-lanes"), reps=reps, out=out / "compare",
                      overwrite=True, figures=False, progress=False)
    diff = cmp.comparison.set_index("metric").loc[["dosed_fraction", "delay.order_to_delivery.mean"]]
    print(diff[["mean_a", "mean_b", "difference", "ci_low", "ci_high", "verdict"]].to_string())

    # 4. A one-factor sweep as a batch (a batch file's content as a dict), every point with the same seed:
    #    the slowest courier day to Canadian homes.
    sweep = api.batch({"name": "dtp-courier", "base": str(HERE / "scenarios" / "clinical_dtp.yaml"),
                       "replications": reps, "sweep": {"design": "grid", "factors": {
                                 "network.countries.CA.home_lane.transit_time.high": [5, 10, 15]}}},
                      out=out / "sweep", overwrite=True, figures=False, progress=False)
    table = sweep.summary.query("metric == 'dosed_fraction'")[["scenario", "mean", "ci_low", "ci_high"]]
    print(table.to_string(index=False))

    # 5. Later, or on another machine: the folder is the record.
    again = api.open_results(out / "base")
    assert again.metrics.equals(base.metrics)
    return {"base": base, "compare": cmp, "sweep": sweep}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    main(n, Path(sys.argv[2]) if len(sys.argv) > 2 else Path("results/first-study"))
