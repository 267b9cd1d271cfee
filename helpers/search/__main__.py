"""`python -m helpers.search`: a search worker: join a profile's study and run its trials."""

import sys

from helpers.search.worker import main

sys.exit(main())
