"""learnscope: a reproducible laboratory for the science of how neural networks learn."""

__version__ = "0.1.0"
