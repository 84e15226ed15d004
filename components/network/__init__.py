"""`Network`: one VPC across several AZs (`network`), its typed inputs (`args`) and the pure subnet
planner (`subnets`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
