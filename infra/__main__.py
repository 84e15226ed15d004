"""Pulumi entry point: `main: infra/` in Pulumi.yaml runs this file."""

import sys
from pathlib import Path

# The program imports `infra` and `components` as packages; when the project is not installed in the
# virtualenv (`make venv` installs it), the project root is where they live.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.program import main

main()
