"""`python -m helpers.serving`: predict emotions for texts or a CSV file (the `emotion-predict` command)."""

import sys

from helpers.serving.cli import main

sys.exit(main())
