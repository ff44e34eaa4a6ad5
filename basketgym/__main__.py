"""``python -m basketgym``: the same as the ``basketgym`` command."""

import sys

from basketgym.cli import main

sys.exit(main())
