"""The offline plan: `mocks` (the mock engine and monitor), `run` (the program under them),
`diff` (two plans compared) and `render` (the tree and tables `meridian plan` prints).

`from infra.plan import run_program, run_plan, plan_after, Plan` works as before the split (a team
program's tests use `run_program`): the names are those of `run`, imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import Plan, plan_after, run_plan, run_program

__all__ = ["Plan", "plan_after", "run_plan", "run_program"]

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name not in __all__:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(".run", __name__), name)
