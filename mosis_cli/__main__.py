"""``python -m mosis_cli``: the same as the ``mosis`` console script."""

import sys

from .main import main

sys.exit(main())
