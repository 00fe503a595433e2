#!/usr/bin/env python3
"""Entry point: ``python run_sim.py run [SCENARIO]`` (see ``--help``)."""
from sim.cli import main

if __name__ == "__main__":
    main()
