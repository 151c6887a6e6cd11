"""Route library logging to a Snakemake rule's log file.

The last line a stage logs names every learnscope module it had loaded (``MODULES_LINE``):
what the job really ran, which its derived code inputs (``learnscope.imports``) must cover.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

MODULES_LINE = "learnscope modules loaded:"


@contextlib.contextmanager
def log_to(path: str):
    """Send ``learnscope`` log records to ``path`` for the duration of a stage."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("learnscope")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    except Exception:
        logger.exception("stage failed")
        raise
    finally:
        loaded = sorted(m for m in sys.modules if m == "learnscope" or m.startswith("learnscope."))
        logger.info("%s %s", MODULES_LINE, " ".join(loaded))
        logger.removeHandler(handler)
        handler.close()
