"""Credentials the data stores generate: a password made once, kept only in Secrets Manager.

A password comes from `random.RandomPassword` (its own provider, so it cannot fall back to a default
one), is regenerated only when its `version` changes, and reaches AWS through write-only arguments:
Pulumi holds it as an encrypted secret, it is never in config, and AWS gets it in one place, a secret
encrypted with the region's key and replicated to the regions that need it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws
import pulumi_random as random

__all__ = ["generated_password", "kms_secret", "replica_arn"]


def generated_password(
    name: str, *, version: int, specials: str, opts: pulumi.ResourceOptions, length: int = 40
) -> pulumi.Output[str]:
    """A password of `length` with upper, lower, digits and `specials`, stable until `version`
    changes (so a replaced resource gets the same one and bumping the version rotates it). The
    password takes `opts` and its own `random` provider, which takes only their parent: nothing
    falls back to an ambient provider."""
    provider = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=opts.parent))
    password = random.RandomPassword(
        name,
        length=length,
        min_lower=2,
        min_upper=2,
        min_numeric=2,
        min_special=2,
        override_special=specials,
        keepers={"version": str(version)},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider)),
    )
    return password.result


def kms_secret(
    name: str,
    *,
    secret_name: str,
    description: str,
    kms_key_arn: pulumi.Input[str],
    replicas: Mapping[str, pulumi.Input[str]],
    protect: bool,
    opts: pulumi.ResourceOptions,
) -> aws.secretsmanager.Secret:
    """A secret under the region's key, replicated to `replicas` (region → that region's key ARN);
    `protect` is applied on top of `opts`, whatever they say."""
    return aws.secretsmanager.Secret(
        name,
        name=secret_name,
        description=description,
        kms_key_id=kms_key_arn,
        # Unprotected stacks are rebuilt: a name pending deletion would block the next create.
        recovery_window_in_days=30 if protect else 0,
        replicas=[{"region": region, "kms_key_id": key} for region, key in sorted(replicas.items())],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect)),
    )


def replica_arn(
    arn: pulumi.Input[str], home: pulumi.Input[str], region: pulumi.Input[str]
) -> pulumi.Output[str]:
    """The ARN of a secret's replica in `region`: a replica keeps its primary's ARN but for the region."""
    return pulumi.Output.all(arn, home, region).apply(
        lambda v: v[0].replace(f":secretsmanager:{v[1]}:", f":secretsmanager:{v[2]}:")
    )
