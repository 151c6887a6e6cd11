"""learnscope: a reproducible laboratory for the science of how neural networks learn.

``learnscope.open(run)`` returns a run's checkpoints, curves, features and trees as one
xarray DataTree (``learnscope.explore.open``)."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, and by name: every job imports this package, and a job's code inputs are the
    # import statements it can reach (learnscope.imports), which must not include explore.
    if name == "open":
        import importlib
        return importlib.import_module("learnscope.explore").open
    raise AttributeError(f"module 'learnscope' has no attribute {name!r}")
