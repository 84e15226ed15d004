"""`DeployRunner`: the in-network runner that `pulumi up` and `pulumi preview` run on (`deploy_runner`),
its typed inputs (`args`) and its IAM documents (`policies`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
