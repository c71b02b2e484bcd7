"""Planners: the input text → a storyboard (``local:planner`` rules, or an LLM through pydantic-ai)."""
