"""Which metrics are the KPIs, in the groups the field uses to judge outsourcing partners.

A KPI names a catalogue pattern (:mod:`sim.metrics`); its definition, unit and interval method are
the catalogue entry's, so there is one place to read what a number means.  ``headline`` KPIs are the
ones a run prints; the report shows every KPI the folder reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sim.metrics import Metric, components, lookup


@dataclass(frozen=True)
class KPI:
    group: str
    label: str
    pattern: str
    headline: bool = False


TIME, SUPPLIERS, QUALITY, COQ, UTILISATION, SERVICE = (
    "time to market", "supplier performance", "quality and compliance", "cost of quality",
    "resource utilisation", "patient service")
GROUPS = (SERVICE, TIME, SUPPLIERS, QUALITY, COQ, UTILISATION)
"""In the order a reader asks: were patients dosed, when, by whom, how well, at what cost, with what."""

KPIS: tuple[KPI, ...] = (
    KPI(SERVICE, "visits dosed within the window", "dosed_fraction", True),
    KPI(SERVICE, "visits dosed on the day", "dosed_on_day_fraction", True),
    KPI(SERVICE, "visits not dosed", "total.visits.not_dosed", True),
    KPI(SERVICE, "patients with a visit not dosed", "total.patients.not_dosed"),
    KPI(SERVICE, "missed dispensings (a kit existed upstream)", "total.visits.missed_dispensing"),
    KPI(SERVICE, "visits out of stock (no usable kit anywhere)", "total.visits.out_of_stock"),
    KPI(SERVICE, "share of runs with a missed dispensing", "risk.missed_dispensing", True),
    KPI(SERVICE, "share of runs with an out-of-stock visit", "risk.out_of_stock", True),
    KPI(SERVICE, "overage (kits produced / dispensed)", "overage", True),
    KPI(SERVICE, "kits wasted", "waste.kits", True),
    KPI(SERVICE, "emergency shipments", "total.emergency_shipments"),
    KPI(TIME, "technology transfer", "tech_transfer.<line>.<product>.days"),
    KPI(TIME, "first released batch of the line", "first_release.<line>"),
    KPI(TIME, "first released batch", "first_release.cdmo.<cdmo>", True),
    KPI(TIME, "site start-up waiting for a CRA", "delay.cra_wait.<cro>.mean"),
    KPI(TIME, "first patient in", "trial.<trial>.first_patient_in"),
    KPI(TIME, "last patient in", "trial.<trial>.last_patient_in", True),
    KPI(TIME, "last patient last visit", "trial.<trial>.last_patient_last_visit", True),
    KPI(TIME, "launch stock built", "launch_stock_built.<market>"),
    KPI(TIME, "first sale to an outside market", "first_sale.<market>"),
    KPI(TIME, "vein to vein (autologous)", "delay.vein_to_vein.<trial>.mean"),
    KPI(SUPPLIERS, "on time in full", "otif.<supplier>", True),
    KPI(SUPPLIERS, "lead time, mean", "delay.supplier_lead_time.<supplier>.mean"),
    KPI(SUPPLIERS, "lead time, longest", "delay.supplier_lead_time.<supplier>.max"),
    KPI(SUPPLIERS, "time in outage", "outage.<supplier>.mean"),
    KPI(SUPPLIERS, "fill rate of the material", "fill_rate.material.<material>"),
    KPI(QUALITY, "right first time (released / decided output)", "quality.<line>"),
    KPI(QUALITY, "product rejected by QC", "total.rejected.<line>"),
    KPI(QUALITY, "lots reworked", "reworked.<line>"),
    KPI(QUALITY, "QC retests (out of specification)", "total.qc_retests.<lab>"),
    KPI(QUALITY, "incoming material rejected", "total.rejected_incoming.<material>"),
    KPI(QUALITY, "raw material rejected at retest", "total.rejected_retest.<material>"),
    KPI(QUALITY, "shipments with a temperature excursion", "total.excursions"),
    KPI(QUALITY, "cold-storage failures", "total.storage_excursions"),
    KPI(QUALITY, "kits lost to excursions", "total.lost.kits"),
    KPI(QUALITY, "visits dosed late inside the window", "visits.dosed_late"),
    KPI(COQ, "cost of quality", "cost.quality"),
    KPI(COQ, "cost of quality, share of total cost", "cost.quality_share", True),
    KPI(COQ, "testing", "cost.testing"),
    KPI(COQ, "scrap", "cost.scrap"),
    KPI(COQ, "rework", "cost.rework"),
    KPI(COQ, "rejected incoming material", "cost.rejected_incoming"),
    KPI(COQ, "total cost", "cost.total"),
    KPI(UTILISATION, "overall equipment effectiveness", "oee.<line>", True),
    KPI(UTILISATION, "OEE availability", "availability.<line>"),
    KPI(UTILISATION, "OEE performance", "performance.<line>"),
    KPI(UTILISATION, "line producing", "utilisation.<line>"),
    KPI(UTILISATION, "QC analysts busy", "utilisation.qc.<lab>"),
    KPI(UTILISATION, "QA team busy", "utilisation.qa.<lab>"),
    KPI(UTILISATION, "packaging lines busy", "utilisation.packaging"),
    KPI(UTILISATION, "CRO's CRAs busy", "utilisation.cro.<cro>"),
    KPI(UTILISATION, "autologous manufacturing slots busy", "utilisation.slots.<trial>"),
)


@dataclass(frozen=True)
class Row:
    """One concrete metric shown as a KPI: ``otif.api-1`` as "on time in full (api-1)"."""

    kpi: KPI
    metric: str
    entry: Metric

    @property
    def unit(self) -> str:
        return "share of runs" if self.entry.unit == "0/1" else self.entry.unit

    @property
    def label(self) -> str:
        parts = components(self.kpi.pattern, self.metric)
        return f"{self.kpi.label} ({', '.join(parts)})" if parts else self.kpi.label


def rows(names: Iterable[str], headline_only: bool = False) -> list[Row]:
    """The KPI rows among metric *names*, in KPI order (components sorted), each metric once."""
    by_pattern: dict[str, list[tuple[str, Metric]]] = {}
    for n in sorted(set(names)):
        entry = lookup(n)
        if entry is not None:
            by_pattern.setdefault(entry.pattern, []).append((n, entry))
    out = []
    for k in KPIS:
        if headline_only and not k.headline:
            continue
        out += [Row(k, n, e) for n, e in by_pattern.get(k.pattern, [])]
    return out
