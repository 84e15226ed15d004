"""Where the project is: the folder of `Pulumi.yaml`, found from the working directory.

Apart from `infra.plan.run` so that the CLI can find and validate a stack file without importing the
Pulumi SDKs the plan needs.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["find_project_dir"]


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest folder at or above *start* (default: the working directory) with a Pulumi.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise FileNotFoundError(f"no Pulumi.yaml in {here} or above; run inside the meridian project")
