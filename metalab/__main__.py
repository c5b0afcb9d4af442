"""``python -m metalab``: the same as the ``metalab`` command."""

import sys

from metalab.cli import main

sys.exit(main())
