"""Story mode engines: the offline ``local:story`` and the LLM steps."""
