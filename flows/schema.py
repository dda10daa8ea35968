"""The shape of a guide: what a YAML file in ``flows/guides/`` must hold.

A guide walks a resident through one online procedure, one SMS per step. Steps follow each
other in file order unless a step says ``next``; a step may ask a numbered question whose
choices lead elsewhere. Targets are a step id, or one of the reserved words below.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

# Reserved targets for ``next`` and for a choice's ``next``.
END = "end"  # the guide is over: ask the closing question
HANDOFF = "handoff"  # hand over to a mediator now, with the guide and step recorded
GUIDE_PREFIX = "guide:"  # "guide:<id>" continues in another guide, at its first step


class Choice(BaseModel):
    """One numbered answer to a step's question."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, description="What the resident reads after the number.")
    next: str = Field(description="Step id, 'end', 'handoff' or 'guide:<id>'.")


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    choices: list[Choice] = Field(min_length=2, max_length=9)


class Step(BaseModel):
    """One SMS of a guide."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    text: str = Field(min_length=1)
    link: HttpUrl | None = None
    question: Question | None = None
    next: str | None = Field(
        default=None, description="Where SUITE leads; by default the following step, or 'end' after the last."
    )
    long_reason: str | None = Field(
        default=None, description="Why this step may take more than one SMS segment (the checker requires it)."
    )

    @model_validator(mode="after")
    def _question_or_next(self) -> Step:
        if self.question is not None and self.next is not None:
            raise ValueError("a step with a question leads through its choices, not through 'next'")
        return self


class Guide(BaseModel):
    """A step-by-step guide, one per YAML file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=3, max_length=60, description="Short name shown in menus and on resume.")
    intents: list[str] = Field(min_length=1, description="NLU intents (shared/intents.yml) this guide answers.")
    service: str | None = Field(default=None, description="The `service` entity value, when the guide is about one.")
    theme: str = Field(description="Conseiller numérique activity theme used when it escalates.")
    subtheme: str | None = None
    entry: bool = Field(
        default=False,
        description=(
            "The guide to start when several guides answer the same intent and service "
            "(typically a short guide whose one question leads to the others)."
        ),
    )
    steps: list[Step] = Field(min_length=1)
    closing: str | None = Field(
        default=None, description="Closing question; the library default asks OUI or NON."
    )
    sources: list[HttpUrl] = Field(default_factory=list, description="Official pages the content was checked against.")

    @field_validator("steps")
    @classmethod
    def _unique_step_ids(cls, steps: list[Step]) -> list[Step]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"step id '{step.id}' appears twice")
            seen.add(step.id)
        return steps

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def position(self, step_id: str) -> int:
        """1-based position of a step, as shown to the resident ("étape 3 sur 6")."""
        for index, step in enumerate(self.steps, start=1):
            if step.id == step_id:
                return index
        raise KeyError(step_id)

    def next_of(self, step_id: str) -> str:
        """Where SUITE leads from ``step_id``: a step id or a reserved target."""
        step = self.step(step_id)
        if step.next is not None:
            return step.next
        index = self.position(step_id)
        return self.steps[index].id if index < len(self.steps) else END
