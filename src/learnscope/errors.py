"""Exceptions with one clear message naming the offending key, file or run."""


class LearnscopeError(Exception):
    """Base class of every error learnscope raises on purpose."""


class ConfigError(LearnscopeError, ValueError):
    """A params.yaml value is unknown, of the wrong type or impossible; the message names its dotted key."""


class StoreError(LearnscopeError):
    """A results file is missing, unreadable or violates its schema; the message names the file."""


class DivergenceError(LearnscopeError, FloatingPointError):
    """A run diverged (``learnscope.divergence``: NaN/inf or exploding loss, non-finite gradients
    or weights); the message names the run, the step, the value and the rule."""


def require(condition: bool, path: str, message: str) -> None:
    """Raise ConfigError ``"{path} {message}"`` unless ``condition`` holds (``check`` methods use it)."""
    if not condition:
        raise ConfigError(f"{path} {message}")


def config_error(path: str, key: str, value: object, allowed: str) -> ConfigError:
    """A ConfigError reading ``"{path}.{key} = {value!r} {allowed}"`` (one line)."""
    return ConfigError(f"{path}.{key} = {value!r} {allowed}")


class MeasureError(LearnscopeError, RuntimeError):
    """A features or distill computation failed numerically on a run's snapshot; the message
    names the run and the step."""
