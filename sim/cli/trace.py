"""``pharmasim trace RESULTS_DIR [PATIENT_OR_LOT]``: a dose back to its raw material, or a lot forward
to the patients who received it (:mod:`sim.experiments.trace`)."""
from __future__ import annotations

import click

from sim.cli.common import fail, user_errors

SHOWN = 10
"""Patients listed by name when walking down from a lot (all are counted)."""


def _day(text: str) -> str:
    x = float(text)
    return "never" if x == float("inf") else f"day {x:,.1f}"


def describe(link) -> str:
    """One lot of a chain, indented by its depth."""
    pad = "  " * link.depth
    r = link.row
    if r is None:
        return f"{pad}{link.lot}  (split off {link.lot.rpartition('.')[0]})"
    what = f"{pad}{link.lot}  {float(r['qty']):,.6g} {r['material']}"
    if r["parents"].startswith("PO:"):
        return f"{what}, delivered by {r['parents'][3:]} on {_day(r['created'])}"
    if r["line"] and r["place"].startswith("line."):
        return (f"{what}, made by {r['line']} ({r['cdmo']}) from {_day(r['made'])}, released {_day(r['created'])}")
    extra = f", expires {_day(r['expiry'])}" if r["expiry"] != "inf" else ""
    return f"{what} at {r['place']}, {_day(r['created'])}{extra}"


def _chain(links, shown: set[str]) -> None:
    """Print a chain up, each lot's own chain once: a lot already shown is named, not walked again."""
    skip_below = None
    for link in links:
        if skip_below is not None and link.depth > skip_below:
            continue
        skip_below = None
        if link.lot in shown:
            click.echo(f"{'  ' * link.depth}{link.lot}  (as above)")
            skip_below = link.depth
            continue
        shown.add(link.lot)
        click.echo(describe(link))


@click.command()
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("key", required=False, metavar="PATIENT_OR_LOT")
@click.option("--record", is_flag=True, help="(re)record the genealogy of a finished run first")
@click.option("--rep", type=click.IntRange(min=0), help="with --record: the replication (default: the first)")
@user_errors
def trace(results_dir, key, record, rep) -> None:
    """Trace a patient's doses back to the raw-material deliveries (kit lot, kit lot packed, drug-product
    batch, API lots, supplier deliveries, with lines, CDMOs, release and expiry dates), or a lot
    forward to every patient dosed from it.  Needs a run made with --trace (or --record here)."""
    from sim.experiments.trace import Trace, write_trace
    if record:
        for p in write_trace(results_dir, rep):
            click.echo(p)
    t = Trace(results_dir)
    if key is None:
        patients = {d["patient"] for d in t.doses}
        click.echo(f"{len(t.lots)} lots made, {len(t.doses)} doses to {len(patients)} patients; "
                   f"give a patient (e.g. {min(patients, default='PAT-1')}) or a lot to trace")
        return
    doses = t.patient(key)
    if doses:
        click.echo(f"{key}: {len(doses)} doses")
        for d in doses:
            click.echo(f"  {_day(d['day'])} at {d['point']}: {float(d['qty']):g} x {d['material']} from {d['lot']}")
        shown: set[str] = set()
        for lot in dict.fromkeys(d["lot"] for d in doses):
            click.echo("")
            _chain(t.up(lot), shown)
        return
    if not t.known(key):
        fail(f"{results_dir}: no patient or lot {key!r} in the traced replication", 1)
    _chain(t.up(key), set())
    lots, given = t.down(key)
    patients = list(dict.fromkeys(d["patient"] for d in given))
    click.echo(f"\ndownstream: {len(lots) - 1} lots, {len(given)} doses "
               f"({sum(float(d['qty']) for d in given):,.0f} kits) to {len(patients)} patients"
               + (f": {', '.join(patients[:SHOWN])}{' ...' if len(patients) > SHOWN else ''}" if patients else ""))
