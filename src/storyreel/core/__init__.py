"""Core domain: the storyboard artifact, hashing, errors and settings. Imports nothing else of ours."""
