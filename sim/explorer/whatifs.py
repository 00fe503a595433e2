"""Which generated controls come up front, which KPIs head the comparison, and the guided tour.

These are *patterns* over field paths (``lines[*].qc_time.*``), not a list of fields: whatever the
schema says a matching field is (its unit, range, choices) is what the control shows, and a scenario
without, say, a QC lab simply has no QC-analyst control.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from sim.explorer.fields import FieldSpec

QUICK = (
    ("QC", ("qc_labs[*].analysts", "qc_labs[*].tests[*].*time*", "lines[*].qc_time.*",
            "lines[*].qc_failure_prob")),
    ("Manufacturing", ("lines[*].batch_size", "lines[*].cycle_time.*", "lines[*].batches", "lines[*].rate",
                       "lines[*].lot_size", "lines[*].lots", "lines[*].start", "lines[*].release")),
    ("Suppliers", ("suppliers[*].lead_time.*", "suppliers[*].disruptions", "suppliers[*].disruptions.*")),
    ("Enrollment", ("trials[*].regions[*].enrollment_rate", "trials[*].regions[*].activation.*",
                    "trials[*].site_groups[*].recruitment_rate.*", "trials[*].site_groups[*].startup.*",
                    "network.countries[*].site_startup.*", "trials[*].target_patients")),
    ("Resupply and shelf life", ("trials[*].resupply.trigger", "trials[*].resupply.level",
                                 "trials[*].resupply.buffer", "packaging.shelf_life", "kit_types[*].shelf_life",
                                 "lines[*].plan.overage", "trials[*].resupply.do_not_ship")),
)
"""The common what-ifs, by topic: QC analysts and test time, batch size and cycle time, batch vs
continuous (campaign sizes and starts of both kinds of line), supplier lead time and outage,
enrollment rate and site start-up, resupply trigger/level, shelf life, overage."""

KPIS = ("dosed_fraction", "total.visits.not_dosed", "risk.out_of_stock", "risk.missed_dispensing",
        "trial.*.last_patient_in", "total.packaged.kits", "total.expired.*", "cost.total")
"""The headline KPIs of the comparison, in order (every metric is in the 'all metrics' table)."""


def wildcard(path: str) -> str:
    """``lines[1].qc_time.mean`` -> ``lines.#.qc_time.mean`` (fnmatch reads brackets as a character set,
    so list indices and the patterns' ``[*]`` both become ``.#``)."""
    return re.sub(r"\[(\d+|\*)\]", ".#", path)


def quick_fields(specs: list[FieldSpec]) -> list[tuple[str, list[FieldSpec]]]:
    """The up-front controls: (topic, specs) for each topic with a matching field, in the data's order."""
    out = []
    paths = [wildcard(s.path) for s in specs]
    for topic, patterns in QUICK:
        match = re.compile("|".join(fnmatch.translate(wildcard(p)) for p in patterns)).match  # one pass each
        chosen = [s for s, path in zip(specs, paths) if match(path)]
        if chosen:
            out.append((topic, chosen))
    return out


def kpi_names(names) -> list[str]:
    """The headline KPIs among *names*, in :data:`KPIS` order."""
    names = sorted(names)
    out: list[str] = []
    for pattern in KPIS:
        out += [n for n in names if fnmatch.fnmatchcase(n, pattern) and n not in out]
    return out


@dataclass(frozen=True)
class Tour:
    """A prepared what-if: a question, the fields it changes (``--set`` paths), what to look for."""

    key: str
    title: str
    question: str
    assignments: tuple[tuple[str, Any], ...]
    look_for: str


TOUR = (
    Tour("qc", "QC capacity", "What if the QC lab takes a week longer to release each batch?",
         (("lines.dp-batch.qc_time.mean", 37.0),),
         "QC release time goes up by a week (delay.qc_release_time in All metrics) and so does the cost, yet "
         "every service KPI is identical in every replication: the batches are made long before patients "
         "need them. Try 90 or 180 days to find where QC starts to reach the patients."),
    Tour("continuous", "Batch vs continuous", "What if all drug product came from the continuous line, "
         "started on day 0, instead of the batch campaign?",
         (("lines.dp-batch.batches", 0), ("lines.dp-continuous.start", 0.0), ("lines.dp-continuous.lots", 8)),
         "Everything is made at the start, so cost drops, but the kits age on the shelf: expired kits at the "
         "depot soar and the last patients' visits go undosed (out of stock) late in the trial. Timing, not "
         "capacity, is the lesson."),
    Tour("enrollment", "Slow enrollment", "What if enrollment is half as fast in every region?",
         (("trials.P3-001.regions.NA.enrollment_rate", 0.0135), ("trials.P3-001.regions.EU.enrollment_rate", 0.0135),
          ("trials.P3-001.regions.APAC.enrollment_rate", 0.0135)),
         "The enrollment curve flattens and last patient in moves past the horizon in some replications (its "
         "mean is then not shown); kits made for the original timeline expire at the depot and the sites."),
    Tour("outage", "Supplier outage", "What if the API supplier has outages of one to three months?",
         (("suppliers.api-supplier.disruptions",
           {"time_between": {"dist": "exponential", "mean": 120}, "duration": {"dist": "uniform", "low": 30,
                                                                                "high": 90}}),),
         "Orders wait out each outage, but the API stock and the depot absorb it: the patients' KPIs are "
         "identical or not distinguishable from noise. Resilience is also a result; lower the supplier's "
         "initial_stock or lengthen the outages to find the breaking point."),
)
"""The guided tour of the default scenario; an item whose fields a scenario lacks is not offered."""
