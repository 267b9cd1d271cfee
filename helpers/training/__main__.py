"""`python -m helpers.training.finetune`: one training run, as torchrun starts it on each process."""

import sys

from helpers.training.launch import main

sys.exit(main())
