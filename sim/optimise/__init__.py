"""Simulation optimisation of supply parameters (``pharmasim optimise``): an optimisation file
(:mod:`.spec`), a search over the decision variables with Optuna (:mod:`.run`), ranking and selection
with a statistical guarantee (:mod:`.selection`), common random numbers and a resumable journal
(:mod:`.evaluate`), and the outputs (:mod:`.report`)."""
