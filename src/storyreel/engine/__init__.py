"""The engine: nodes, keys, staleness and execution with run records."""
