"""`AuditTrail`: the organisation's CloudTrail into a locked bucket (`audit_trail`) and its typed
inputs (`args`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
