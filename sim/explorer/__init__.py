"""The what-if explorer: a local web app (``pharmasim explore``) for students' what-if questions.

A thin layer over the experiment API, in one direction: nothing below imports it.

- :mod:`.fields` — the controls' specifications, generated from the scenario schema (pydantic model
  fields: descriptions with units, ranges, choices), one per editable value of a scenario
- :mod:`.whatifs` — which fields come up front (the common what-ifs) and the guided tour
- :mod:`.session` — one tab's state: the base scenario, the user's edits, validation (the schema's own
  messages per field), the modified scenario as YAML and as the equivalent ``--set`` command
- :mod:`.jobs` — replications in a shared worker pool, in the background, with progress and cancel;
  baselines cached (the same seed: common random numbers)
- :mod:`.cache` — finished runs kept on disk between sessions (exact key: scenario, seed, replications,
  code), so a second ``explore`` shows its baseline at page load
- :mod:`.results` — KPIs with CIs and paired differences, series for the overlaid charts, results zip
- :mod:`.paths` — the folders a scenario may be loaded from
- :mod:`.page`, :mod:`.panels`, :mod:`.server` — the web page (NiceGUI) and the server
"""
