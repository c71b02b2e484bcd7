"""Planners: turn a script or prompt into a storyboard."""
