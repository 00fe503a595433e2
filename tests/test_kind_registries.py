"""A new kind of line or resupply policy is its schema class plus its runtime class, registered once,
from outside the package — shown here with toy kinds and hand-computed answers."""
from __future__ import annotations

from typing import Literal

import pytest

from sim.clinical.resupply import ResupplyPolicy, register_policy, unregister_policy
from sim.core.errors import ScenarioError
from sim.model import run_replication
from sim.scenario.clinical import ResupplySpec
from sim.scenario.supply import BatchLine
from sim.supply.lines.base import LineNode
from sim.supply.lines.batch import BatchRecipe
from sim.supply.lines.registry import register_line_kind, unregister_line_kind
from test_clinical_base import base_dict, scenario as clinical_scenario, trial_dict
from tests.mfg_support import scenario


# -- a line kind: two suites working in step (two batches per cycle) ------------------------------
class TwinLine(BatchLine):
    """Schema: a batch line whose two suites make two batches in each cycle."""

    kind: Literal["twin"]


class TwinLineNode(LineNode):
    """Runtime: gather material for two batches, run one cycle, hand both lots to QC."""

    recipe_class = BatchRecipe

    def _campaign(self, camp):
        env, r = self.ctx.env, camp.recipe
        made = 0
        while camp.batches is None or made < camp.batches:
            n = 2 if camp.batches is None else min(2, camp.batches - made)
            parents = []
            for _ in range(n):
                parents.append((yield from self._intake(r, 1.0)))
            started = env.now
            qtys = [r.size * r.yield_() for _ in range(n)]
            for q in qtys:
                self._start(r, q)
            yield from self._operate(r.cycle(), r, slots=False)
            self.ideal += r.ideal_time
            for q, parent in zip(qtys, parents):
                self._finish(r, q, camp.purpose)
                env.process(self._release(r, q, started, parent))
            made += n


TWIN = {"name": "twin", "kind": "twin", "material": "api", "material_per_batch": 2, "batch_size": 100,
        "cycle_time": 5, "qc_time": 1, "batches": 4}


@pytest.fixture
def twin_kind():
    register_line_kind(TwinLine, TwinLineNode)
    yield
    unregister_line_kind(TwinLine)


def test_an_unregistered_kind_is_refused_with_the_field_path():
    with pytest.raises(ScenarioError) as err:
        scenario([TWIN], horizon=30)
    assert err.value.problems == ["lines[0].kind: unknown value 'twin'; expected one of 'batch', 'continuous'"]


def test_a_line_kind_registered_from_outside_runs_and_conserves_material(twin_kind):
    sc = scenario([TWIN], horizon=12)
    res = run_replication(sc, rep=0)  # checks conservation
    m = res.metrics
    # two batches in each 5-day cycle: lots done at 5, 5, 10, 10; released after 1 day of QC
    assert m["total.released.twin"] == 400
    assert m["batches.twin"] == 4
    assert m["first_release.twin"] == 6
    assert m["delay.cycle_time.twin.mean"] == 6 and m["delay.cycle_time.twin.n"] == 4
    assert res.accounting["api"]["out:consumed"] == 8
    assert m["total.packaged.kits"] == 400
    # on a plain batch line the same batches are done at 5, 10, 15, 20: two released by day 12
    plain = run_replication(scenario([{**TWIN, "kind": "batch"}], horizon=12), rep=0).metrics
    assert plain["total.released.twin"] == 200 and plain["batches.twin"] == 2


def test_unregistering_restores_the_schema(twin_kind):
    unregister_line_kind(TwinLine)
    with pytest.raises(ScenarioError):
        scenario([TWIN], horizon=30)
    register_line_kind(TwinLine, TwinLineNode)  # for the fixture's teardown


# -- a resupply policy: the initial shipment and nothing after ------------------------------------
class InitialOnly(ResupplySpec):
    """Schema: ship ``initial`` kits at activation, never resupply."""

    policy: Literal["initial_only"]


class InitialOnlyPolicy(ResupplyPolicy):
    """Runtime: the position never triggers a shipment."""

    def quantity(self, point, kit, position, now):
        return 0.0


def _one_site(resupply: dict) -> dict:
    tr = trial_dict(regions=[], target_patients=3, visits=[0, 7, 14], resupply=resupply)
    tr["sites"] = [{"country": "X", "count": 1, "startup": 10, "recruitment_rate": 0.1, "arrivals": "regular"}]
    return base_dict(trials=[tr], network={"countries": [{"name": "X", "lane": {"transit_time": 2}}]})


def test_a_resupply_policy_registered_from_outside_runs():
    d = _one_site({"policy": "initial_only", "initial": 4})
    with pytest.raises(ScenarioError, match="unknown value 'initial_only'"):
        clinical_scenario(d)
    register_policy(InitialOnly, InitialOnlyPolicy)
    try:
        m = run_replication(clinical_scenario(d), rep=0).metrics
    finally:
        unregister_policy(InitialOnly)
    # 3 patients x 3 visits need 9 kits; the 4 shipped at activation dose the first 4 visits
    assert m["total.dispensed.kits"] == 4
    assert m["total.visits.not_dosed"] == 5
    assert m["total.shipments"] == 1
