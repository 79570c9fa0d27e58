"""Entry point of the installed `ditto-desk` command (run by the system's python3 with -E -s)."""

import sys

from ditto_desk_bootstrap.main import main

sys.exit(main(sys.argv[1:]))
