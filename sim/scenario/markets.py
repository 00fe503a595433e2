"""Scenario schema of outside demand: customers who order from a stock point of the chain.

A commercial market after launch, a distributor or a second customer of a CDMO's intermediate draws
on the same stock as the chain's own lines; a commercial pack market, a distributor or a retail
echelon draws kits from a depot (``stock: <kit type>`` with ``depot: <depot>``) beside the trials'
shipments.  What it cannot get at once waits (backorders, first come first served) or is lost.
Demand is a Poisson stream at a ``rate`` (orders a day), a renewal stream (``interarrival``), or a
``schedule`` of rates that change on given days (a forecast, inline or read from a CSV file
``day,rate``), each optionally scaled by a ``season`` of multipliers.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from sim.scenario.base import Dist, FieldError, Model, Name, NonNegFloat, PositiveFloat

MAX_SCHEDULE = 100_000
"""Rows a demand schedule may have (a daily forecast over 270 years)."""


class Market(Model):
    """Outside demand at one stock point."""

    name: Name
    stock: Name = Field(description="the material or intermediate product the customers order from, or a kit "
                                    "type when depot is given")
    depot: Name | None = Field(None, description="the depot whose kits of type stock the customers order (a "
                                                 "commercial pack market); none: a material or intermediate")
    priority: Literal["clinical", "market"] | None = Field(
        None, description="at a depot, who is served first when kits arrive and both the trials' customers and the "
                          "market's backorders wait (default clinical: patients in a trial come first)")
    min_shelf_life: NonNegFloat = Field(0.0, description="at a depot, days of shelf life a kit must have left to be "
                                                         "sold (0: any kit not yet expired)")
    rate: PositiveFloat | None = Field(None, description="orders a day (a Poisson stream)")
    interarrival: Dist | None = Field(None, description="days between orders (a renewal stream)")
    schedule: list[tuple[NonNegFloat, NonNegFloat]] | None = Field(
        None, description="[day, orders a day] pairs: the rate from that day on (a forecast)")
    forecast: str | None = Field(None, description="a CSV file with columns day, rate (relative to the scenario "
                                                   "file); read into schedule when the scenario is loaded")
    season: list[NonNegFloat] | None = Field(None, min_length=1, description="multipliers of the rate, one per "
                                             "equal part of season_length (e.g. 12 monthly factors)")
    season_length: PositiveFloat = Field(365.0, description="days of one seasonal cycle")
    order_size: Dist = Field(1.0, description="units (kg) per order")
    unmet: Literal["backorder", "lost"] = Field("backorder", description="an order not met at once waits "
                                                "(backorder) or is lost, after taking what is on hand (lost)")
    start: NonNegFloat = Field(0.0, description="day the first order may come (a launch date)")
    launch_stock: NonNegFloat | None = Field(
        None, description="units the launch needs on hand (launch stock build): the first day the stock point "
                          "holds them is the milestone launch_stock_built.<market>")

    def launch_day(self) -> float:
        """The launch: ``start``, or the first day a demand schedule's rate is above 0."""
        if self.schedule is not None:
            return max(self.start, next((d for d, r in self.schedule if r > 0), self.start))
        return self.start

    @model_validator(mode="before")
    @classmethod
    def _read_forecast(cls, data: Any, info: ValidationInfo) -> Any:
        """A forecast file becomes the inline schedule, so a resolved scenario is self-contained."""
        if isinstance(data, dict) and isinstance(data.get("forecast"), str):
            base = (info.context or {}).get("base", Path.cwd()) if info is not None else Path.cwd()
            data = {**data, "schedule": read_schedule(Path(base) / data["forecast"]), "forecast": None}
        return data

    @model_validator(mode="after")
    def _one_stream(self):
        given = [k for k in ("rate", "interarrival", "schedule") if getattr(self, k) is not None]
        if len(given) != 1:
            raise FieldError("rate", "expected exactly one of rate, interarrival, schedule (or forecast); got "
                                     + (", ".join(given) or "none"))
        if self.schedule is not None:
            days = [d for d, _ in self.schedule]
            if not days or days != sorted(days) or len(set(days)) != len(days):
                raise FieldError("schedule", "expected [day, rate] pairs in increasing order of day")
            if not any(r > 0 for _, r in self.schedule):
                raise FieldError("schedule", "expected some rate above 0")
        if self.depot is None and self.priority is not None:
            raise FieldError("priority", "a priority applies to a market at a depot (set depot)")
        if self.depot is None and self.min_shelf_life > 0:
            raise FieldError("min_shelf_life", "a minimum shelf life applies to a market at a depot (set depot)")
        if self.depot is not None and not whole_sizes(self.order_size):
            raise FieldError("order_size", "kits are whole: expected a whole number, or an empirical distribution "
                                           "of whole numbers, for a market at a depot")
        if self.season is not None and self.interarrival is not None:
            raise FieldError("season", "a season scales a rate or a schedule, not an interarrival distribution")
        if self.season is not None and max(self.season) <= 0:
            raise FieldError("season", "expected some multiplier above 0")
        return self

    def peak_rate(self) -> float:
        """The highest rate the stream reaches (what thinning draws candidates at)."""
        rates = [r for _, r in self.schedule] if self.schedule is not None else [self.rate or 0.0]
        return max(rates) * (max(self.season) if self.season else 1.0)


def whole_sizes(size: Any) -> bool:
    """Whether every order size *size* can draw is a whole number (a fixed size or an empirical list)."""
    values = getattr(size, "observations", None) or [getattr(size, "value", 0.5)]
    return all(float(v).is_integer() and v > 0 for v in values)


def read_schedule(path: Path) -> list[tuple[float, float]]:
    """``day,rate`` rows of a forecast CSV (a header line, then numbers)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except OSError as err:
        raise FieldError("forecast", f"cannot read {str(path)!r}: {err.strerror}") from None
    if len(rows) > MAX_SCHEDULE + 1:
        raise FieldError("forecast", f"{path}: more than {MAX_SCHEDULE:,} rows")
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        try:
            day, rate = (float(x) for x in row[:2])
        except ValueError:
            raise FieldError("forecast", f"{path}, line {i}: expected two numbers day,rate; got {row!r}") from None
        out.append((day, rate))
    return out


def market_problems(markets: list[Market], stocks: set[str], kits: list[str], depots: list[str]) -> list[str]:
    """Markets that order from a stock the chain does not keep: a material or intermediate the supply side
    does not hold, or a depot or kit type the scenario does not declare."""
    out = []
    for i, m in enumerate(markets):
        if m.depot is None and m.stock not in stocks:
            out.append(f"markets[{i}].stock: no stock point {m.stock!r}; expected a raw material or an intermediate "
                       f"product (one of {sorted(stocks)}), or a kit type with depot")
        elif m.depot is not None and m.depot not in depots:
            out.append(f"markets[{i}].depot: no depot {m.depot!r}; expected one of {depots}")
        elif m.depot is not None and m.stock not in kits:
            out.append(f"markets[{i}].stock: no kit type {m.stock!r} (a market at depot {m.depot!r} orders kits); "
                       f"expected one of {kits}")
    return out
