"""storyreel: text to finished video through a cached, traced pipeline of stages."""

__version__ = "0.1.0"
