"""`EksCluster` and what runs in it: `Karpenter`, `ServiceMesh` (Istio) and `AppEnvelope` (one
application's namespace, identity and routes); their typed inputs (`args`) and IAM documents
(`policies`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
