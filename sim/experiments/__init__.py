"""Experiments at scale: overrides, designs, batches, backends, stored results.

The unit of work is :func:`sim.model.run_replication`; everything here decides
*which* replications to run (:mod:`.designs`, :mod:`.batch`,
:mod:`.sequential`), *where* (:mod:`.backends`), and *how the answers are kept*
(:mod:`.store`) and compared (:mod:`.compare`).  :mod:`.runner` ties them up.
"""
