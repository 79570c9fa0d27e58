"""Start the app, run by the runtime's python. Run as a file (not `-m`) so that sys.path starts with this
folder, not the current directory: a ditto_desk folder there (a source checkout) is never imported instead."""

import sys

from ditto_desk.launcher import main

sys.exit(main())
