"""`PostgresCluster`: one region's member of the Aurora PostgreSQL global database (`postgres_cluster`)
and its typed inputs (`args`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
