"""Timelines: what a component did when, stored with a replication's results (``timeline.csv``) so
that Gantt charts are drawn from data rather than from live objects."""
from __future__ import annotations

from typing import NamedTuple


class TimelineRow(NamedTuple):
    """One interval of a line's activity.

    *kind* is a line state (``production``, ``engineering``, ``ppq``, ``changeover``, ``startup``,
    ``shutdown``, ``breakdown``, ``maintenance``, ``waiting_material``, ``closed``, ``idle``,
    ``before_start``), ``tech_transfer``, or ``qc_hold``.  *label* is the product for production,
    engineering, PPQ, start-up and tech transfer, the outcome (``released`` / ``rejected``) for a
    QC hold, and empty otherwise.
    """
    line: str
    cdmo: str
    start: float
    end: float
    kind: str
    label: str
