"""`python -m helpers.bench`: every measurement of a profile's bench."""

from helpers.bench.run import main

main()
