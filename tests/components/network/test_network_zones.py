"""AZs by id: an AZ event or a zone AWS adds moves nothing, and the renamed children keep what the
stack has (an alias to each zone-letter name of before)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from infra.plan.diff import diff_plans
from infra.plan.mocks import PlanMocks
from infra.plan.run import Plan
from tests.support import PLANS, PROJECT_DIR, SUBNET, plan_of


def _staging_with_tokyo(tmp_path: Path) -> Path:
    """Staging with eu-west-1 moved to ap-northeast-1, whose zones this account names a, c, d
    (apne1-az4, az1, az2) and where a zone can appear between them (apne1-az3 as ap-northeast-1b)."""
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.staging.yaml").read_text())
    config = document["config"]
    config["meridian:regions"][1] |= {"name": "ap-northeast-1", "azIds": ["apne1-az4", "apne1-az1"]}
    config["meridian:postgres"]["backup"]["copyRegion"] = "ap-northeast-1"
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


def _same_resources(base: Plan, head: Plan) -> None:
    diff = diff_plans(base.document(), head.document())
    assert diff.empty, (diff.added, diff.removed, [(c.name, c.properties) for c in diff.changed])


def _placement(plan: Plan) -> list[tuple[str, Any, Any]]:
    """Every subnet and database instance with its range and zone."""
    return sorted(
        (r.name, r.inputs.get("cidrBlock"), r.inputs.get("availabilityZone"))
        for r in plan.resources
        if r.type in (SUBNET, "aws:rds/clusterInstance:ClusterInstance")
    )


def test_an_impaired_az_moves_nothing() -> None:
    """During an AZ event AWS reports the zone impaired (or unavailable): a lookup of available zones
    would drop it and fail the run or shift every subnet. The plan is the same, resource for resource."""
    base = plan_of("staging")
    event = PLANS.fresh(
        PROJECT_DIR,
        "staging",
        mocks=PlanMocks(zone_states={"use1-az6": "impaired", "euw1-az2": "unavailable"}),
    )
    _same_resources(base, event)
    assert _placement(event) == _placement(base)
    assert any(zone == "us-east-1a" for _, _, zone in _placement(event))  # use1-az6 still holds its subnets


def test_a_new_zone_first_in_name_order_moves_nothing(tmp_path: Path) -> None:
    """AWS offers the account a zone whose name sorts among the used ones (ap-northeast-1b): the
    first zones by name are no longer the ones in use, and nothing follows them."""
    project = _staging_with_tokyo(tmp_path)
    before = PLANS(project, "staging")
    zones = {"ap-northeast-1": {"a": 4, "b": 3, "c": 1, "d": 2}}
    after = PLANS.fresh(project, "staging", mocks=PlanMocks(zones=zones))
    _same_resources(before, after)
    assert _placement(after) == _placement(before)
    tokyo = [zone for name, _, zone in _placement(after) if "ap-northeast-1" in name and zone]
    assert set(tokyo) == {"ap-northeast-1a", "ap-northeast-1c"}


def test_children_of_an_az_are_named_by_its_id_and_keep_their_letter_names() -> None:
    """Subnets, route tables, routes, associations, NAT gateways and EIPs: named after the AZ id,
    each with one alias, its name of before (the zone name's letter, `-1a`), so nothing is replaced."""
    plan = plan_of("staging")
    letters = {}  # AZ id -> the letter part of this account's name for it
    for subnet in plan.of_type(SUBNET):
        az_id = re.search(r"-([a-z]+[0-9]+-az[0-9]+)$", subnet.name)
        assert az_id, subnet.name
        letters[az_id.group(1)] = subnet.inputs["availabilityZone"].rsplit("-", 1)[1]
    assert letters == {"use1-az6": "1a", "use1-az1": "1b", "euw1-az1": "1a", "euw1-az2": "1b"}
    # The routes over the deploy peering are new (named by AZ id from the start): nothing to keep.
    renamed = [
        r
        for r in plan.custom_resources
        if any(f"-{z}" in r.name for z in letters) and "vpcPeeringConnectionId" not in r.inputs
    ]
    assert {r.type.rsplit(":", 1)[1] for r in renamed} == {
        "Subnet", "RouteTable", "Route", "RouteTableAssociation", "NatGateway", "Eip"
    }  # fmt: skip
    for resource in renamed:
        old = resource.name
        for az_id, letter in letters.items():
            old = old.replace(f"-{az_id}", f"-{letter}")
        assert resource.aliases == [resource.urn.rsplit("::", 1)[0] + "::" + old], resource.urn
