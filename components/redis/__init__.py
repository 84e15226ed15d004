"""`RedisCluster`: one region's ElastiCache store, alone or in a global datastore (`redis_cluster`),
and its typed inputs (`args`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
