"""The name of a data store's final snapshot: unique per generation of the store, stable otherwise.

A store deleted with `protect` takes a final snapshot under `final_snapshot_identifier`. A fixed name
(`<id>-final`) works once: the first replacement's snapshot keeps the name, and the second
replacement's delete fails ("snapshot already exists"), leaving the old store up. So the name ends in
a `random.RandomId` whose `keepers` are the inputs that force the store's replacement: a change of
one replaces the store and mints a new suffix for its successor, while the store being deleted takes
its snapshot under the name in its own state. Nothing else changes the suffix, so there is no
perpetual diff. `final_snapshot_identifier` is not ForceNew on `aws.rds.Cluster` or
`aws.elasticache.ReplicationGroup` (the provider reads it at delete only): a new name is an in-place
update.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pulumi
import pulumi_random as random

__all__ = ["SUFFIX_BYTES", "final_snapshot_identifier", "final_snapshot_name"]

#: 4 bytes, 8 hex digits: ample for the few generations a store has.
SUFFIX_BYTES = 4

# RDS DB cluster snapshot identifiers: 1 to 255 letters, digits and hyphens, a letter first, no two
# hyphens in a row, no hyphen last; ElastiCache snapshot names are held to the same rule.
_SNAPSHOT_IDENTIFIER = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|-(?!-))*(?<!-)")
_MAX_LENGTH = 255


def final_snapshot_identifier(identifier: str, suffix: str) -> str:
    """`<identifier>-final-<suffix>`, refused if RDS or ElastiCache would refuse it."""
    name = f"{identifier}-final-{suffix}"
    if len(name) > _MAX_LENGTH or not _SNAPSHOT_IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"final snapshot name {name!r}: 1 to {_MAX_LENGTH} letters, digits and single hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    return name


def final_snapshot_name(
    name: str,
    *,
    identifier: str,
    replaced_when: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """The final snapshot name of the store `identifier`, whose suffix changes exactly when one of
    `replaced_when` (the store's ForceNew inputs, as strings) does. The suffix takes `opts` and its
    own `random` provider, which takes only their parent (as `generated_password`'s)."""
    final_snapshot_identifier(identifier, "0" * 2 * SUFFIX_BYTES)  # refuse a bad name at once
    provider = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=opts.parent))
    suffix = random.RandomId(
        name,
        byte_length=SUFFIX_BYTES,
        keepers=dict(replaced_when),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider)),
    )
    return suffix.hex.apply(lambda digits: final_snapshot_identifier(identifier, digits))
