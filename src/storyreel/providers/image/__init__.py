"""Image generators."""
