"""The KPI report: a results folder's metrics grouped as the CRO/CDMO literature judges a supply chain
(time to market, supplier performance, quality and compliance, cost of quality, resource
utilisation, patient service), as one self-contained HTML file and Markdown / LaTeX tables.

:mod:`.kpis` says which catalogue metrics make each group; :mod:`.tables` reads a folder into KPI rows
and writes the tables; :mod:`.html` renders the page.  Reads only the results folder.
"""
