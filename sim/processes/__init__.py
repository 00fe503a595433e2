"""SimPy processes, one module per kind of node in the chain.

suppliers -> manufacturing (batch and continuous lines) -> packaging -> depot
-> logistics (lanes) -> sites.  :mod:`sim.model` wires them from a scenario.
"""
