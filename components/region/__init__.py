"""`RegionStack`: everything one region runs, wired together (`region_stack`), its KMS key
(`RegionKey`) and its typed inputs (`args`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
