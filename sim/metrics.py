"""The metric catalogue: every scalar metric (the ``metrics`` table) and per-period series (``series``)
a run can report, with its unit, meaning and the node that produces it.

A metric is found here by its name with the component's name replaced by a placeholder:
``total.released.dp-batch`` is ``total.released.<line>``.  Names are written out, not derived by
rules, so this file is the one place to look a metric up (``pharmasim metrics NAME``), and the
metric tables of ``results/README.md`` are generated from it (``pharmasim metrics --markdown``).
:func:`lookup` is how a concrete name is matched; a test runs every shipped scenario and checks that
each metric it reports is catalogued, and that every catalogued metric is reported by one of them.

Counts, totals, rates and time averages cover the observation window, from the warm-up to the
horizon; milestones (``first_release``, ``first_patient_in`` ...) are days from the start of the run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping


@dataclass(frozen=True)
class Metric:
    """One catalogue entry; ``<name>`` parts of *pattern* stand for a component's name."""

    pattern: str
    unit: str
    meaning: str
    producer: str
    table: str = "metrics"  # or "series" (the series table: one value per reporting period)

    @property
    def interval(self) -> str:
        """How its confidence interval is made: every metric is at least 0, a fraction at most 1, and
        a 0/1 metric's mean is a share of replications (:mod:`sim.core.stats`)."""
        if self.unit == "0/1":
            return "Wilson score"
        return "Student t within [0, 1]" if self.unit == "fraction" else "Student t, at least 0"


def _counted(name: str, unit: str, what: str, producer: str) -> list[Metric]:
    """A per-period counter's three faces: its total and rate (metrics) and its series."""
    return [Metric(f"total.{name}", unit, f"{what}, in the observation window", producer),
            Metric(f"rate.{name}", f"{unit}/day", f"{what}, per day of the observation window", producer),
            Metric(name, f"{unit}/period", f"{what}, per reporting period", producer, "series")]


def _delay(name: str, what: str, producer: str) -> list[Metric]:
    """A tally's metrics (mean, max, count of observations); its sample goes to the delays table."""
    return [Metric(f"delay.{name}.mean", "days", f"mean {what}", producer),
            Metric(f"delay.{name}.max", "days", f"longest {what}", producer),
            Metric(f"delay.{name}.n", "count", f"observations of {what}", producer)]


def _level(name: str, unit: str, what: str, producer: str, suffix: str = ".mean") -> list[Metric]:
    """A time-weighted level: its time average (metrics) and per-period averages (series)."""
    return [Metric(f"{name}{suffix}", unit, f"time-average {what}", producer),
            Metric(name, unit, f"average {what} in each reporting period", producer, "series")]


CATALOGUE: tuple[Metric, ...] = tuple([
    # -- suppliers and raw materials ------------------------------------------------------------
    *_counted("delivered.<supplier>", "kg", "material delivered by the supplier", "supplier"),
    *_delay("supplier_lead_time.<supplier>", "days from order to complete delivery", "supplier"),
    Metric("otif.<supplier>", "fraction", "orders delivered on time and in full", "supplier"),
    Metric("orders.<supplier>", "count", "orders placed with the supplier", "supplier"),
    *_level("outage.<supplier>", "fraction", "share of time the supplier is in an outage", "supplier"),
    Metric("fill_rate.material.<material>", "fraction", "issues of the material met at once from stock",
           "material"),
    *_level("inventory.material.<material>", "kg", "stock of the raw material or intermediate on hand",
            "material"),
    *_counted("rejected_incoming.<material>", "kg", "delivered material rejected by incoming QC", "material"),
    *_counted("incoming_tests.<material>", "tests", "incoming-QC tests run without a lab", "material"),
    *_counted("retests.<material>", "tests", "lots retested at their retest date", "material"),
    *_counted("rejected_retest.<material>", "kg", "material rejected at its retest", "material"),
    # -- CDMO lines ------------------------------------------------------------------------------
    *_counted("released.<line>", "units", "product released by QC", "line"),
    *_counted("rejected.<line>", "units", "product rejected by QC", "line"),
    *_counted("breakdowns.<line>", "count", "line breakdowns", "line"),
    *_counted("diverted.<line>", "units", "off-spec output diverted during start-up (continuous line)",
              "line"),
    *_delay("cycle_time.<line>", "days from batch start to QC release", "line"),
    *_delay("qc_release_time.<line>", "days a lot spends in QC hold", "line"),
    *_level("utilisation.<line>", "fraction", "share of time the line is producing", "line", suffix=""),
    *_level("downtime.<line>", "fraction", "share of time the line is broken down", "line", suffix=""),
    *_level("wip.<line>", "units", "work in progress (in process, QC hold, rework)", "line"),
    Metric("availability.<line>", "fraction", "OEE availability: run time / planned time", "line"),
    Metric("performance.<line>", "fraction", "OEE performance: nominal time of the work / run time", "line"),
    Metric("quality.<line>", "fraction", "OEE quality: released / all output decided", "line"),
    Metric("oee.<line>", "fraction", "overall equipment effectiveness (availability x performance x quality)",
           "line"),
    Metric("first_release.<line>", "day", "first lot released (any product)", "line"),
    Metric("first_release.<line>.<product>", "day", "first lot of the product released (multi-product lines)",
           "line"),
    Metric("first_release.cdmo.<cdmo>", "day", "first lot released by any line of the CDMO",
           "supply network"),
    Metric("tech_transfer.<line>.<product>.days", "days", "technology transfer of the product to the line",
           "line"),
    Metric("tech_transfer.<line>.<product>.attempts", "count", "technology-transfer attempts (over all its stages)", "line"),
    Metric("batches.<line>", "count", "batches (lots) made", "line"),
    Metric("changeovers.<line>", "count", "changeovers and cleanings", "line"),
    Metric("reworked.<line>", "count", "lots reworked after a QC failure", "line"),
    Metric("plan.campaigns.<line>.<product>", "count", "campaigns an order-up-to (s, S) plan started", "planner"),
    Metric("plan.partial_batches.<line>.<product>", "count", "of those, campaigns ending on a partial batch "
           "(min_batch)", "planner"),
    # -- QC labs -----------------------------------------------------------------------------------
    *_counted("qc_tests.<lab>", "tests", "tests run in the QC lab (retests too)", "QC lab"),
    *_counted("qc_retests.<lab>", "tests", "retests after an out-of-specification result", "QC lab"),
    *_delay("qc_wait.<lab>", "days a test waits for an analyst", "QC lab"),
    *_level("utilisation.qc.<lab>", "fraction", "share of analysts busy (hands-on time only)", "QC lab",
            suffix=""),
    *_delay("qa_wait.<lab>", "days a tested lot waits for QA disposition / QP certification", "QC lab"),
    *_level("utilisation.qa.<lab>", "fraction", "share of the QA team busy", "QC lab", suffix=""),
    *_level("qc_queue.<lab>", "tests", "tests waiting for an analyst", "QC lab"),
    # -- costs ----------------------------------------------------------------------------------
    Metric("cost.production.<line>", "currency", "batch, unit and changeover costs of the line",
           "supply network"),
    Metric("cost.scrap.<line>", "currency", "value of product made on the line and then lost", "supply network"),
    Metric("cost.per_released_unit.<line>", "currency/unit", "production plus material cost per released unit",
           "supply network"),
    Metric("cost.materials", "currency", "raw material purchased", "supply network"),
    Metric("cost.production", "currency", "production cost of every line", "supply network"),
    Metric("cost.testing", "currency", "QC testing (release and incoming)", "supply network"),
    Metric("cost.holding", "currency", "holding cost of raw material and work in progress", "supply network"),
    Metric("cost.rework", "currency", "rework of failed lots", "supply network"),
    Metric("cost.scrap", "currency", "value of product made and then lost", "supply network"),
    Metric("cost.rejected_incoming", "currency", "value of delivered material rejected by incoming QC",
           "supply network"),
    Metric("cost.quality", "currency", "cost of quality: testing + scrap + rework + rejected incoming",
           "supply network"),
    Metric("cost.total", "currency", "purchases + production + testing + holding + rework", "supply network"),
    Metric("cost.quality_share", "fraction", "cost of quality / total cost", "supply network"),
    # -- outside demand (markets) -------------------------------------------------------------
    *_counted("demand.<market>", "units", "units the market's customers ordered", "market"),
    *_counted("sold.<market>", "units", "units delivered to the market's customers", "market"),
    *_counted("lost_sales.<market>", "units", "units ordered and lost because the stock point was short",
              "market"),
    *_delay("backorder.<market>", "days a backordered order waited for stock", "market"),
    *_level("backlog.<market>", "units", "units backordered by the market's customers", "market"),
    Metric("fill_rate.market.<market>", "fraction", "units met at once from stock / units ordered", "market"),
    Metric("first_sale.<market>", "day", "first units delivered to the market (launch supply)", "market"),
    Metric("launch_stock_built.<market>", "day",
           "first day the market's stock point held the launch stock (markets[].launch_stock)", "market"),
    Metric("stock_at_launch.<market>", "units",
           "units on hand at the market's stock point on the launch day (start, or the schedule's first demand)",
           "market"),
    Metric("cycle_service_level.market.<market>", "fraction",
           "replenishment cycles of the stock point in which every order was met at once", "market"),
    # -- packaging ------------------------------------------------------------------------------
    *_counted("packaged.kits", "kits", "kits packaged and labelled", "packaging"),
    *_counted("not_packed.<product>", "units", "released product no kit type is packed from", "packaging"),
    *_counted("expired_bulk.<product>", "units",
              "released product whose shelf life (from its date of manufacture) ended before it was packed",
              "packaging"),
    *_delay("packaging_wait", "days a released lot waits for a packaging line", "packaging"),
    *_level("utilisation.packaging", "fraction", "share of packaging lines busy", "packaging", suffix=""),
    *_level("wip.packaging_queue", "lots", "released lots waiting for packaging", "packaging"),
    # -- depots and lanes ------------------------------------------------------------------------
    *_level("inventory.depot.<depot>", "kits", "kits on hand at the depot", "depot"),
    *_counted("expired.depot", "kits", "kits expired at depots", "depot"),
    *_level("occupancy.depot.<depot>.<class>", "kits", "storage used at a depot with a capacity, per storage class "
            "(all, or a temperature class); pallet positions with kits_per_pallet", "depot room"),
    *_level("full.depot.<depot>.<class>", "fraction", "share of time the storage class is at capacity", "depot room"),
    Metric("days_full.depot.<depot>.<class>", "days", "days the storage class was at capacity", "depot room"),
    *_level("awaiting_room.<depot>", "kits", "kits waiting at the dock for room (when_full: wait)", "depot room"),
    *_counted("room_refused.<depot>", "kits", "kits refused for lack of room (when_full: refuse)", "depot room"),
    *_delay("room_wait.<depot>", "days a lot waited at the dock until all of it was on the shelf", "depot room"),
    *_delay("import_release.<depot>", "days an imported shipment spent in import testing / QP certification "
            "(queue included)", "depot"),
    *_counted("import_rejected.<depot>", "kits", "imported kits rejected by import testing and destroyed", "depot"),
    *_counted("relabelled.kits", "kits", "kits relabelled to extend their shelf life", "depot"),
    *_counted("sourced.kits", "kits", "kits bought in ready to use (comparators), received", "kit source"),
    *_counted("cost.sourcing", "currency", "purchases of kits bought in, when ordered", "kit source"),
    *_counted("recalled.kits", "kits", "kits withdrawn by a batch recall (on shelves, or arriving after it)",
              "recall"),
    *_counted("cost.relabelling", "currency", "cost of relabelling kits", "depot"),
    *_counted("expiry_updates.kits", "kits", "kits whose expiry was extended without a relabel campaign: an IRT "
              "update (a label without an expiry date, US 21 CFR 211.137(g)) at depots and sites, or unlabelled "
              "kits awaiting just-in-time labelling", "depot"),
    # -- label groups ------------------------------------------------------------------------------
    *_counted("labelled_for.<label_group>", "kits", "kits labelled for the label group (packaging plan or "
              "just in time)", "labelling"),
    *_counted("resupplied.<depot>.<label_group>", "kits", "kits shipped to a regional depot for the label "
              "group's stock (dedicated stock, reordered per group)", "depot"),
    *_counted("labelled.kits", "kits", "kits labelled just in time from unlabelled stock", "labelling"),
    *_counted("cost.labelling", "currency", "cost of labelling kits just in time", "labelling"),
    *_delay("jit_labelling", "days from a just-in-time labelling order to its kits on the depot's shelf "
            "(line queue included)", "labelling"),
    *_counted("shipped.kits", "kits", "kits shipped to sites and patients", "lane"),
    *_counted("shipped.kits_to_depots", "kits", "kits shipped between depots", "lane"),
    *_counted("shipments", "shipments", "shipments dispatched", "lane"),
    *_counted("shippers", "shippers", "shipper boxes used (lanes with a shipper size)", "lane"),
    *_counted("no_room.kits", "kits", "kits resupply orders left out for lack of room at the site (a shortage counted at its "
              "first cut order)", "site"),
    *_counted("cost.shipping", "currency", "shipping cost", "lane"),
    *_counted("lost.kits", "kits", "cold-chain kits lost to temperature excursions (shipping or storage)",
              "lane"),
    *_counted("storage_excursions", "events", "cold-storage failures at depots and sites", "cold storage"),
    *_counted("excursions", "shipments", "shipments with a temperature excursion", "lane"),
    *_counted("emergency_shipments", "shipments", "urgent courier shipments for a patient waiting with no kit",
              "lane"),
    *_counted("cost.emergency_shipping", "currency", "cost of the emergency shipments", "lane"),
    # -- trials and sites -------------------------------------------------------------------------
    *_counted("enrolled.<trial>", "patients", "patients randomised", "trial"),
    *_counted("screened.<trial>", "patients", "patients screened", "trial"),
    Metric("trial.<trial>.enrolled", "patients", "patients randomised (whole run)", "trial"),
    Metric("trial.<trial>.screened", "patients", "patients screened (whole run)", "trial"),
    Metric("trial.<trial>.screen_failed", "patients", "screen failures (whole run)", "trial"),
    Metric("trial.<trial>.completed", "patients", "patients who completed treatment", "trial"),
    Metric("trial.<trial>.dropped", "patients", "patients who dropped out", "trial"),
    Metric("trial.<trial>.active", "patients", "patients on treatment at the horizon", "trial"),
    Metric("trial.<trial>.visits_not_dosed", "visits", "dosing visits without a kit (whole run)", "trial"),
    Metric("trial.<trial>.patients_not_dosed", "patients", "patients with at least one visit not dosed",
           "trial"),
    Metric("trial.<trial>.first_patient_in", "day", "first patient randomised", "trial"),
    Metric("trial.<trial>.last_patient_in", "day", "last patient randomised (the target reached, or the last over-enrolled one)",
           "trial"),
    Metric("trial.<trial>.last_patient_last_visit", "day", "last patient's last visit", "trial"),
    Metric("trial.<trial>.over_enrolled", "patients",
           "randomised beyond the target (in screening when it was met; enrollment_stop: randomised)", "trial"),
    Metric("trial.<trial>.arm.<arm>.randomised", "patients", "patients randomised to the arm", "trial"),
    Metric("trial.<trial>.arm.<arm>.level.<level>.randomised", "patients",
           "patients of the arm at the dose level (weight-based dosing)", "trial"),
    Metric("trial.<trial>.titrations", "changes", "dose-level changes by titration (whole run)", "trial"),
    *_counted("infused.<trial>", "patients", "patients infused with their own batch (autologous)", "trial"),
    *_counted("manufacturing_failures.<trial>", "batches", "patient batches that failed (a new collection)",
              "trial"),
    *_counted("late_infusions.<trial>", "patients", "infusions beyond the vein-to-vein limit", "trial"),
    *_counted("not_treated.<trial>", "patients", "patients whose every collection failed", "trial"),
    *_delay("vein_to_vein.<trial>", "days from first collection to infusion", "trial"),
    *_delay("slot_wait.<trial>", "days a patient's material waited for a manufacturing slot", "trial"),
    *_level("utilisation.slots.<trial>", "fraction", "share of the autologous manufacturing slots busy", "trial",
            suffix=""),
    Metric("trial.<trial>.interims_acted", "count", "interim analyses whose decision was taken (trials with "
           "interims)", "trial"),
    Metric("trial.<trial>.terminated", "day", "the trial was stopped by an interim decision", "trial"),
    Metric("trial.<trial>.discontinued", "patients", "patients stopped by a decision (a dropped arm, "
           "termination)", "trial"),
    Metric("trial.<trial>.screening_stopped", "patients", "patients in screening when the trial was stopped",
           "trial"),
    Metric("site.<site>.randomised", "patients", "patients randomised at the site", "site"),
    Metric("site.<site>.first_patient_in", "day", "first patient randomised at the site", "site"),
    Metric("site.<site>.last_patient_in", "day", "last patient randomised at the site", "site"),
    Metric("site.<site>.stockouts", "visits", "visits that found no kit on the shelf", "site"),
    Metric("site.<site>.activated", "day", "site activation", "site"),
    *_level("inventory.site.<site>", "kits", "kits on hand at the site", "site"),
    *_level("inventory.sites_total", "kits", "kits on hand at all sites", "site"),
    *_level("inventory.homes_total", "kits", "kits at patients' homes (direct to patient)", "site"),
    *_counted("expired.sites", "kits", "kits expired at sites", "site"),
    *_counted("expired.homes", "kits", "kits expired at patients' homes", "site"),
    *_counted("destroyed.kits", "kits", "kits returned and destroyed when a site or home closed", "site"),
    # -- CROs ---------------------------------------------------------------------------------------
    *_level("utilisation.cro.<cro>", "fraction", "share of the CRO's CRAs busy (start-up and monitoring)", "CRO",
            suffix=""),
    *_delay("cra_wait.<cro>", "days a site's start-up waited for a free CRA", "CRO"),
    *_counted("monitoring_visits.<cro>", "visits", "monitoring visits by the CRO's CRAs", "CRO"),
    # -- dosing and service -------------------------------------------------------------------------
    *_counted("dispensed.kits", "kits", "kits dispensed to patients", "dispensing point"),
    *_counted("replaced.kits", "kits", "damaged or lost kits replaced from the shelf (counted in dispensed too)",
              "dispensing point"),
    *_counted("unreplaced.kits", "kits", "damaged or lost kits not replaced: no spare on the shelf",
              "dispensing point"),
    *_counted("visits.dosed", "visits", "dosing visits dosed (within the window)", "dispensing point"),
    *_counted("visits.dosed_on_time", "visits", "dosing visits dosed on the day", "dispensing point"),
    *_counted("visits.not_dosed", "visits", "dosing visits not dosed", "dispensing point"),
    *_counted("visits.missed_dispensing", "visits",
              "visits not dosed although a usable kit existed upstream", "dispensing point"),
    *_counted("visits.out_of_stock", "visits", "visits not dosed with no usable kit anywhere",
              "dispensing point"),
    *_counted("patients.not_dosed", "patients", "patients with a first visit not dosed", "dispensing point"),
    *_delay("order_to_delivery", "days from a resupply order to its arrival", "dispensing point"),
    *_delay("patient_kit_wait", "days a dosed patient waited for a kit", "dispensing point"),
    Metric("dosed_fraction", "fraction", "visits dosed within their window / visits due (the headline: a dose "
           "given inside the protocol window is compliant)", "clinical network"),
    Metric("dosed_on_day_fraction", "fraction", "visits dosed on the due day / visits due (formerly "
           "service_level; a dose given later inside the window counts as not on the day)", "clinical network"),
    Metric("visits.dosed_late", "visits", "visits dosed inside their window but after the due day "
           "(dosed minus dosed on the day)", "clinical network"),
    Metric("waste.kits", "kits", "kits that left the chain without reaching a patient: expired at depots, "
           "sites and homes, destroyed at close-out, lost to excursions", "clinical network"),
    Metric("kits.produced", "kits", "kits packaged plus initial stock (whole run)", "clinical network"),
    Metric("overage", "ratio", "kits produced / kits dispensed", "clinical network"),
    Metric("stockouts", "visits", "visits that found no kit on the shelf, all sites", "clinical network"),
    Metric("risk.not_dosed", "0/1", "1 if any visit was not dosed (its mean is a probability)",
           "clinical network"),
    Metric("risk.missed_dispensing", "0/1", "1 if any visit was a missed dispensing", "clinical network"),
    Metric("risk.out_of_stock", "0/1", "1 if any visit was not dosed for lack of stock", "clinical network"),
])


def _regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"<[a-z_]+>", pattern)
    return re.compile(".+".join(re.escape(p) for p in parts) + r"\Z", re.S)


@lru_cache(maxsize=None)
def _compiled(table: str) -> list[tuple[int, re.Pattern[str], Metric]]:
    """Entries of *table*, most literal text first: ``utilisation.qc.<lab>`` wins over
    ``utilisation.<line>`` for ``utilisation.qc.lab-1``."""
    rows = [(len(re.sub(r"<[a-z_]+>", "", m.pattern)), _regex(m.pattern), m) for m in CATALOGUE if m.table == table]
    return sorted(rows, key=lambda r: -r[0])


def components(pattern: str, name: str) -> tuple[str, ...]:
    """The component names a concrete metric fills into *pattern*'s placeholders:
    ``components("otif.<supplier>", "otif.api-1") == ("api-1",)``."""
    parts = re.split(r"<[a-z_]+>", pattern)
    m = re.compile("(.+)".join(re.escape(p) for p in parts) + r"\Z", re.S).match(name)
    return m.groups() if m else ()


def lookup(name: str, table: str = "metrics") -> Metric | None:
    """The catalogue entry of a concrete metric (or, with ``table="series"``, series) name."""
    for _, rx, m in _compiled(table):
        if rx.match(name):
            return m
    return None


class DuplicateMetricError(RuntimeError):
    """Two nodes reported the same metric name: one would silently hide the other."""


def merge(parts: Iterable[tuple[str, Mapping[str, float]]]) -> dict[str, float]:
    """One dict of every node's metrics; a name reported twice is an error naming both producers."""
    out: dict[str, float] = {}
    by: dict[str, str] = {}
    for producer, metrics in parts:
        for k, v in metrics.items():
            if k in out:
                raise DuplicateMetricError(f"metric {k!r} reported by both {by[k]} and {producer}")
            out[k] = v
            by[k] = producer
    return out


def markdown(table: str = "metrics") -> str:
    """The catalogue as a Markdown table (the results README's metric tables)."""
    if table == "series":
        rows = [f"| `{m.pattern}` | {m.unit} | {m.meaning} | {m.producer} |" for m in CATALOGUE if m.table == table]
        return "\n".join(["| name | unit | meaning | reported by |", "|---|---|---|---|", *rows])
    rows = [f"| `{m.pattern}` | {m.unit} | {m.meaning} | {m.producer} | {m.interval} |"
            for m in CATALOGUE if m.table == table]
    return "\n".join(["| name | unit | meaning | reported by | 95 % interval |", "|---|---|---|---|---|", *rows])

