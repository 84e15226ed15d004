"""`PrivateBucket` (S3, encrypted, private, versioned) and `CrossRegionBackup` (AWS Backup copies to
another region); their typed inputs (`args`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
