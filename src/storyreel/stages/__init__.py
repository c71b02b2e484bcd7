"""Pipeline stages: each reads the project context, declares its nodes and writes its outputs."""
