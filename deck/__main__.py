"""``python -m deck``: the same as ``python build.py`` and the ``deck`` command."""

import sys

from .launch import main

sys.exit(main())
