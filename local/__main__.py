"""`python -m local`: the local server, or `python -m local token` (see local/server.py)."""

from local.server import main

main()
