"""``python -m tokenmath``: the same as the ``tokenmath`` command."""

import sys

from .cli import main

sys.exit(main())
