"""Story mode's steps on an LLM (seed 003; issue 27 item 5): each step is one structured-output call through
pydantic-ai — the step's instructions, its context DTO as JSON, and its output DTO as the answer's schema (strict,
with the storage models' descriptions: :data:`storyreel.core.story.STEPS`). The model is the setting ``story_llm``
(or ``story_step_llms[step]``); the reasoning effort ``story_thinking[step]`` (the seed's answers: medium for lore,
narrative and scenes, none for the rest). Every call is reserved in the ledger before it runs and booked from its
reported tokens (:meth:`StoryWriter.reply`); an answer that never validates is an
:class:`~storyreel.core.errors.UnusableAnswer` (booked as uncertain, the step fails with the model's words).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from storyreel.core.story import OPTIONS, STEPS

INSTRUCTIONS = {
    "lore": f"You are a story developer. From the person's request, write {OPTIONS} different worlds for a short narrated, "
            "illustrated story: each with its own title, setting, tone and visual style. Make the options really differ.",
    "narrative": f"You are a story writer. In the world given, write {OPTIONS} different plots for a short story told in three "
                 "acts (beginning, middle, end) around one protagonist. Make the options really differ.",
    "scenes": "You are a storyboard writer. Split the narrative into three to six scenes, in order: each one place and moment, "
              "with what happens and a rough visual sketch.",
    "scenes_options": f"You are a storyboard writer. Split the narrative into scenes in {OPTIONS} different ways (three to six "
                      "scenes each, in order): each scene one place and moment, with what happens and a rough visual sketch.",
    "components": "You are a production designer. List every character, prop and place that appears in the scenes, each with "
                  "a visual description precise enough to draw it alone and the names of the scenes it appears in.",
    "stage_shot": "You are a director of photography. Describe the wide establishing picture of this scene: the place, the "
                  "light, and where each of its components stands.",
    "shots": "You are a storyboard artist. Break the scene into two to four shots: for each, what the picture shows, the "
             "narrator's words over it, the camera move, and the names of the components in it.",
}
MAX_TOKENS = {"lore": 3000, "narrative": 4000, "scenes": 4000, "scenes_options": 9000, "components": 4000, "stage_shot": 1200, "shots": 3000}
TEMPERATURE = {"lore": 0.9, "narrative": 0.9, "scenes": 0.6, "scenes_options": 0.8, "components": 0.4, "stage_shot": 0.5, "shots": 0.6}


class LlmStory:
    """``reply(step, context) -> (output, tokens, USD)`` on the step's LLM (``llms[step]``, pydantic-ai providers with
    ``run`` and ``token_estimate``); ``estimate(step, context)`` the USD reserved first. ``model`` replaces the vendors'
    models (tests pass pydantic-ai's ``FunctionModel``)."""

    code_version: ClassVar[str] = "llm-story/1"

    def __init__(self, llms: dict[str, Any], thinking: dict[str, str | bool], model: Any = None) -> None:
        self.llms, self.thinking, self.model = llms, thinking, model
        self.provider_id = llms["lore"].provider_id
        self.paid = any(getattr(m, "paid", False) for m in llms.values())

    def identity(self, step: str) -> str:
        """The step's model and reasoning (part of its node's key: changing either re-runs the step)."""
        return f"{self.llms[step].provider_id}|thinking={self.thinking.get(step.removesuffix('_options'))}"

    def estimate(self, step: str, context: BaseModel) -> float:
        """Upper bound in USD of the step's call (its instructions, context and schema in, ``MAX_TOKENS`` out)."""
        _, output = STEPS[step]
        chars = len(INSTRUCTIONS[step]) + len(context.model_dump_json()) + len(str(output.model_json_schema()))
        return self.llms[step].token_estimate(chars, MAX_TOKENS[step])

    def reply(self, step: str, context: BaseModel) -> tuple[BaseModel, dict[str, int], float]:
        """The step's structured answer. Raises ``ProviderError`` / ``UnusableAnswer`` from the LLM."""
        _, output = STEPS[step]
        user = f"Context (JSON):\n{context.model_dump_json(indent=2)}"
        answer, tokens, cost = self.llms[step].run(INSTRUCTIONS[step], user, output, temperature=TEMPERATURE[step],
                                                   max_tokens=MAX_TOKENS[step], model=self.model,
                                                   thinking=self.thinking.get(step.removesuffix("_options")))
        return answer, tokens, cost


def writer(settings: Any, model: Any = None) -> Any:
    """The story writer the settings name: :class:`~storyreel.providers.story.local_story.LocalStory` for
    ``local:story``, else :class:`LlmStory` on ``story_llm`` with the per-step overrides. Raises
    :class:`~storyreel.core.errors.ConfigError` for an LLM that cannot be used as configured."""
    from storyreel.core.errors import ConfigError
    from storyreel.providers.registry import resolve
    from storyreel.providers.story.local_story import LocalStory

    if settings.story_llm == "local:story":
        if settings.story_step_llms:
            raise ConfigError("story_step_llms is set but story_llm is local:story", hint="set STORYREEL_STORY_LLM to the LLM for the other steps")
        return LocalStory()
    llms = {}
    for step in STEPS:
        name = settings.story_step_llms.get(step.removesuffix("_options"), settings.story_llm)
        llm = resolve("llm", name, settings)
        if not getattr(llm, "runs_agents", False):
            raise ConfigError(f"story step {step}: {name} cannot answer structured output", hint="set STORYREEL_STORY_LLM to VENDOR:MODEL")
        llm.preflight()
        llms[step] = llm
    return LlmStory(llms, settings.story_thinking, model=model)
