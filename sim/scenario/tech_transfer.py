"""Schema of a technology transfer to a CDMO line: one duration, or stages that fail and are redone
one at a time; then engineering and PPQ batches (the runtime is :mod:`sim.supply.tech_transfer`)."""
from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenario.base import Dist, FieldError, Model, Name, Probability


class TransferStage(Model):
    """One stage of a technology transfer (method transfer, process transfer, engineering run ...)."""

    name: Name
    duration: Dist = Field(description="days per attempt at this stage")
    failure_prob: Probability = Field(0.0, description="probability an attempt fails and this stage is repeated")


class TechTransfer(Model):
    """Technology transfer of a product to a line, then qualification batches.

    Either one ``duration`` (with ``failure_prob``, the whole transfer is repeated on failure) or
    ``stages`` in order, where a failure sends the transfer back one stage only: that stage is redone."""

    duration: Dist | None = Field(None, description="days per transfer attempt (without stages)")
    failure_prob: Probability = Field(0.0, description="probability an attempt fails and must be repeated "
                                                       "(without stages)")
    stages: list[TransferStage] = Field(default_factory=list, description="stages in order; a failure "
                                        "repeats only the failed stage")
    engineering_batches: int = Field(0, ge=0, description="non-GMP batches (lots) made and scrapped")
    ppq_batches: int = Field(0, ge=0, description="process-performance-qualification batches (released if they pass QC)")


    @model_validator(mode="after")
    def _one_form(self):
        if (self.duration is None) == (not self.stages):
            raise FieldError("duration", "expected either duration (with failure_prob) or stages, not both "
                             "or neither")
        if self.stages and self.failure_prob:
            raise FieldError("failure_prob", "with stages, give each stage its own failure_prob")
        return self

    @property
    def all_stages(self) -> list[TransferStage]:
        """The stages; a transfer given by one duration is one stage."""
        return self.stages or [TransferStage(name="transfer", duration=self.duration,
                                             failure_prob=self.failure_prob)]
