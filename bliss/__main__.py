import sys

from bliss.cli import main

sys.exit(main())
