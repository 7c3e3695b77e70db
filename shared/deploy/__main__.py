"""Entry point of ``python -m shared.deploy`` (see :mod:`shared.deploy.cli`)."""

import sys

from shared.deploy.cli import main

sys.exit(main())
