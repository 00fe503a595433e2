"""A patient's visits, the wait for a kit and other chains of timed calls keep the order of events of
the SimPy processes they replace: the same hops at one instant (checked against SimPy itself), the
visit days of a hand trace, and a stall names the timed call that loops."""
from __future__ import annotations

import pytest

import sim.core.context as context
from sim.clinical.kit_wait import KitWait
from sim.clinical.sites import SiteNode
from sim.core.context import Context, SimulationStalled
from test_clinical_base import base_dict, model, trial_dict

pytestmark = pytest.mark.pure_python  # replaces methods or subclasses model classes (tests/conftest.py)


def _ctx() -> Context:
    return Context(horizon=100.0, warmup=0.0, period=10.0, seed=1, rep=0)


def _wait(use_simpy: bool, serve_at: float | None, hops: int = 0) -> list:
    """A patient comes on day 1 and waits for a kit for 4 days (the window closes on day 5); the kit is
    handed over on *serve_at* by a call booked before the wait began, after *hops* zero-time hops.
    Probes booked after the hand-over show where the patient goes on among the instant's calls."""
    ctx = _ctx()
    env, log, serve = ctx.env, [], []

    def probe(tag: str, n: int) -> None:
        log.append((env.now, tag))
        if n:
            ctx.after(0, probe, tag + "+", n - 1)

    def hand_over(left: int) -> None:
        if left:
            ctx.after(0, hand_over, left - 1)
            return
        log.append((env.now, "kit"))
        serve[0]()
        ctx.after(0, probe, "p", 3)

    if serve_at is not None:
        ctx.at(serve_at, hand_over, hops)
    if use_simpy:  # the process the visit chain was
        def patient():
            yield env.timeout(1.0)
            ev = env.event()
            serve.append(ev.succeed)
            yield ev | env.timeout(4.0)
            log.append((env.now, "dosed" if ev.triggered else "not dosed"))
        env.process(patient())
    else:
        def come() -> None:
            w = KitWait(ctx, None, {}, lambda w: log.append((env.now, "dosed" if w.served else "not dosed")),
                        lambda: None, ())
            serve.append(w.serve)
            w.until(4.0)
        ctx.start(ctx.after, 1.0, come)
    ctx.run(20.0)
    return log


@pytest.mark.parametrize("serve_at, hops", [(3.0, 0), (5.0, 0), (5.0, 1), (5.0, 2), (None, 0)])
def test_kit_wait_takes_the_hops_of_simpys_condition(serve_at, hops):
    """Kit before the window closes, at its closing instant before or after the window's timeout (then
    still dosed: the condition is processed a hop later), after that hop (not dosed), never."""
    assert _wait(False, serve_at, hops) == _wait(True, serve_at, hops)


def test_kit_wait_hand_trace():
    """Kit on day 3: the patient goes on two hops later (the kit's event, then the condition), between
    the first and the second probe booked after the hand-over; at the window's close, after its
    timeout, the kit still counts."""
    assert _wait(False, 3.0) == [(3.0, "kit"), (3.0, "p"), (3.0, "dosed"), (3.0, "p+"), (3.0, "p++"),
                                 (3.0, "p+++")]
    assert _wait(False, 5.0, 1)[:2] == [(5.0, "kit"), (5.0, "dosed")]
    assert _wait(False, 5.0, 2)[0] == (5.0, "not dosed")
    assert _wait(False, None) == [(5.0, "not dosed")]


def test_start_runs_where_a_process_first_step_runs():
    """Context.start, like env.process, runs before the calls already due at the instant."""
    logs = []
    for use_simpy in (False, True):
        ctx, log = _ctx(), []
        env = ctx.env

        def first() -> None:
            log.append("first")
            ctx.after(0, log.append, "b")

        def gen():
            first()
            yield env.timeout(0)

        def at_one() -> None:
            ctx.after(0, log.append, "a")
            env.process(gen()) if use_simpy else ctx.start(first)
            ctx.after(0, log.append, "c")
        ctx.at(1.0, at_one)
        ctx.run(2.0)
        logs.append(log)
    assert logs[0] == logs[1] == ["first", "a", "c", "b"]


def test_visit_days_and_dropout_match_hand_trace(monkeypatch):
    """Site open on day 10, a patient every 10 days (target 2), randomised at once; visits on days 0, 7,
    14, 21 of treatment; each drops out 16 days after randomisation: patient 1 comes on days 20, 27, 34
    and drops out on 36, patient 2 on 30, 37, 44 and drops out on 46."""
    tr = trial_dict(target_patients=2, visits=[0, 7, 14, 21], dropout_time=16, regions=[],
                    resupply={"trigger": 1, "level": 3})
    tr["sites"] = [{"country": "X", "count": 1, "startup": 10, "recruitment_rate": 0.1, "arrivals": "regular"}]
    mdl = model(base_dict(trials=[tr], network={"countries": [{"name": "X", "lane": {"transit_time": 2}}]}))
    log = []
    visit, end = SiteNode._visit, SiteNode._end
    monkeypatch.setattr(SiteNode, "_visit", lambda s, p, pt, i: (log.append((s.ctx.now, p.id, i)),
                                                                 visit(s, p, pt, i)))
    monkeypatch.setattr(SiteNode, "_end", lambda s, p, pt, d: (log.append((s.ctx.now, p.id, "dropped" if d
                                                                           else "done")), end(s, p, pt, d)))
    mdl.run()
    mdl.check_conservation()
    a, b = sorted({pid for _, pid, _ in log})
    assert [(t, i) for t, pid, i in log if pid == a] == [(20, 0), (27, 1), (34, 2), (36, "dropped")]
    assert [(t, i) for t, pid, i in log if pid == b] == [(30, 0), (37, 1), (44, 2), (46, "dropped")]
    m = mdl.results().metrics
    assert m["trial.T.dropped"] == 2 and m["total.visits.dosed"] == 6


def test_a_looping_timed_call_is_named(monkeypatch):
    monkeypatch.setattr(context, "STALL_EVENTS", 10_000)
    ctx = _ctx()

    class Ticker:
        name = "dp-1"

        def tick(self) -> None:
            ctx.after(0, self.tick)
    ctx.at(5.0, Ticker().tick)
    with pytest.raises(SimulationStalled, match=r"clock stopped at day 5\b.*Ticker dp-1\.tick"):
        ctx.run(100)
