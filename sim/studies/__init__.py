"""Studies: fixed sets of scenario variants answering one question, run through the experiment runner
(:func:`sim.experiments.run.run_plan`, so they get its backends, workers and progress bar) and drawn
from their own table.  Each is a command: ``pharmasim study NAME``."""
