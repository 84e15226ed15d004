"""`AnalyticsWarehouse`: events into a lake Athena reads, and Redshift Serverless
(`analytics_warehouse`); its typed inputs (`args`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
