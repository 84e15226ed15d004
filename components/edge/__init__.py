"""`CdnEdge`: Cloudflare in front of every region (`cdn_edge`), its typed inputs (`args`), the pure
geo-steering planner (`steering`) and Cloudflare's steering regions (`geo`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
