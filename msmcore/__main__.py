"""``python -m msmcore`` runs the ``msm`` command line."""

import sys

from msmcore.cli import main

sys.exit(main())
