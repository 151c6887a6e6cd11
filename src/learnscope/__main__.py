"""``python -m learnscope ...`` is the ``learnscope`` command (``learnscope.cli``)."""

import sys

from learnscope.cli import main

if __name__ == "__main__":
    sys.exit(main())
