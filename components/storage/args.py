"""Settings of `PrivateBucket`: lifecycle rules, Object Lock, and the name prefix of the components
that own buckets.

`BucketLifecycle` and `ObjectLock` are checked against S3's own limits (the earliest transition to
an infrequent-access class, the gaps between transitions, expiration after the last one) when the
model is built, so a rule S3 would refuse fails before any resource exists. They live apart from
`private_bucket.py` so that validating a stack file (`infra.config`) does not import
the Pulumi SDKs.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field, model_validator

from ..core.args import MeridianModel

__all__ = ["BucketLifecycle", "LockMode", "NamePrefix", "ObjectLock", "StorageClass", "Transition"]

#: The prefix of a component's physical names: S3 bucket names are at most 63 characters and get
#: a purpose and the 12-digit account id appended, so the prefix is kept to 30.
NamePrefix = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,28}[a-z0-9]$")]


class StorageClass(str, Enum):
    """Storage classes a lifecycle rule may move objects to."""

    STANDARD_IA = "STANDARD_IA"
    ONEZONE_IA = "ONEZONE_IA"
    INTELLIGENT_TIERING = "INTELLIGENT_TIERING"
    GLACIER_IR = "GLACIER_IR"
    GLACIER = "GLACIER"
    DEEP_ARCHIVE = "DEEP_ARCHIVE"


#: S3 refuses a transition to these before 30 days, and a later transition less than 30 days after.
_INFREQUENT_ACCESS = frozenset({StorageClass.STANDARD_IA, StorageClass.ONEZONE_IA})
_MIN_IA_DAYS = 30


class Transition(MeridianModel):
    """Move current objects to `storage_class` `days` after they were written.

    Attributes:
        days: age in days (at least 30 for STANDARD_IA and ONEZONE_IA, as S3 requires).
        storage_class: the `StorageClass`.
    """

    days: int = Field(ge=0)
    storage_class: StorageClass


class BucketLifecycle(MeridianModel):
    """One lifecycle rule over the whole bucket (or `prefix`).

    Attributes:
        transitions: moves to cheaper storage, in order of age (default none).
        expire_days: current objects expire this many days after they were written (default never;
            with versioning they become noncurrent, see `noncurrent_expire_days`).
        noncurrent_expire_days: noncurrent versions are deleted this many days after they became
            noncurrent (default never).
        abort_multipart_days: incomplete multipart uploads are removed after this many days
            (default 7); None keeps them.
        prefix: the objects the rule applies to (default "": all).
    """

    transitions: tuple[Transition, ...] = ()
    expire_days: int | None = Field(default=None, ge=1)
    noncurrent_expire_days: int | None = Field(default=None, ge=1)
    abort_multipart_days: int | None = Field(default=7, ge=1)
    prefix: str = ""

    @model_validator(mode="after")
    def _s3_accepts(self) -> BucketLifecycle:
        previous: Transition | None = None
        for transition in self.transitions:
            if transition.storage_class in _INFREQUENT_ACCESS and transition.days < _MIN_IA_DAYS:
                raise ValueError(
                    f"S3 moves objects to {transition.storage_class.value} after {_MIN_IA_DAYS} days at the "
                    f"earliest, not {transition.days}"
                )
            if previous is not None:
                gap = _MIN_IA_DAYS if previous.storage_class in _INFREQUENT_ACCESS else 1
                if transition.days < previous.days + gap:
                    raise ValueError(
                        f"the transition to {transition.storage_class.value} after {transition.days} days "
                        f"must come at least {gap} days after the one to {previous.storage_class.value} "
                        f"({previous.days} days)"
                    )
            previous = transition
        if self.expire_days is not None and previous is not None and self.expire_days <= previous.days:
            raise ValueError(
                f"objects would expire after {self.expire_days} days, before their last transition "
                f"({previous.days} days); S3 requires expiration later than every transition"
            )
        return self


class LockMode(str, Enum):
    """S3 Object Lock retention: GOVERNANCE (users with `s3:BypassGovernanceRetention` may delete
    early) or COMPLIANCE (nobody, not even the account root, until the retention ends)."""

    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


class ObjectLock(MeridianModel):
    """Default retention of every new object version.

    Attributes:
        mode: `LockMode`.
        days: retention in days (1 to 36500).
    """

    mode: LockMode
    days: int = Field(ge=1, le=36500)
