"""``python -m deck``: the same as ``python build.py`` and the ``deck`` command."""

import sys

from .cli import main

sys.exit(main())
