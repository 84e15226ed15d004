"""Building blocks every family shares: the base config model and common field types (`args`),
shared IAM documents (`policies`) and roles (`iam`), AWS lookups, encrypted log groups, Kubernetes
helpers, secrets, maintenance windows and the catalogue of instance sizes.

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
