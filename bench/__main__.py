"""``python -m bench``: see :mod:`bench.runner` and bench/README.md."""

import sys

from .runner import main

sys.exit(main())
