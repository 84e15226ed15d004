"""meridian stack program, offline plan and tooling."""
