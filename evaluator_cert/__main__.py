import sys

from evaluator_cert.cli import main

sys.exit(main())
