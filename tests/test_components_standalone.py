"""A platform team's use: import the components into another Pulumi program, with its own provider."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.settings import ROOT
from pydantic import ValidationError

import components
from components import Network, NetworkArgs, RegionRole, RegionStack, RegionStackArgs
from infra.mocks import PlanMocks, PlanMonitor

MOCKS = PlanMocks()
MONITOR = PlanMonitor(MOCKS)


@pytest.fixture(autouse=True)
def team_program() -> None:
    ROOT.set(None)
    pulumi.runtime.set_mocks(MOCKS, project="team", stack="dev", preview=False, monitor=MONITOR)


@pulumi.runtime.test
def test_network_with_the_teams_own_provider():
    provider = aws.Provider("team-aws", region="eu-central-1")
    network = Network(
        "team",
        NetworkArgs(cidr="10.42.0.0/18", az_count=2, nat_gateways="single", interface_endpoints=()),
        kms_key_arn="arn:aws:kms:eu-central-1:123456789012:key/team",
        opts=pulumi.ResourceOptions(providers=[provider]),
    )

    def check(values: list) -> None:
        vpc_id, private = values
        assert vpc_id.startswith("vpc-")
        assert len(private) == 2
        assert network.availability_zones == ["eu-central-1a", "eu-central-1b"]

    return pulumi.Output.all(network.vpc_id, network.private_subnet_ids).apply(check)


@pulumi.runtime.test
def test_region_stack_exposes_typed_outputs():
    stack = RegionStack(
        "sa-east-1",
        RegionStackArgs(
            region="sa-east-1", role=RegionRole.SECONDARY, name_prefix="team-dev",
            network=NetworkArgs(cidr="10.50.0.0/16"), tags={"owner": "team"},
        ),
    )  # fmt: skip
    assert isinstance(stack.provider, aws.Provider)

    def check(values: list) -> None:
        arn, isolated = values
        assert arn.startswith("arn:aws:kms:sa-east-1:")
        assert len(isolated) == 3

    return pulumi.Output.all(stack.kms_key_arn, stack.isolated_subnet_ids).apply(check)


def test_invalid_args_fail_before_any_resource() -> None:
    with pytest.raises(ValidationError, match="not a private range"):
        NetworkArgs(cidr="8.8.0.0/16")
    with pytest.raises(ValidationError, match="not an AWS region"):
        RegionStackArgs(region="us-east-9", role="primary", name_prefix="x",
                        network=NetworkArgs(cidr="10.0.0.0/16"))  # fmt: skip
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        NetworkArgs(cidr="10.0.0.0/16", azcount=3)


def test_public_api_is_exported_typed_and_documented() -> None:
    package = Path(components.__file__).parent
    assert (package / "py.typed").is_file()
    for name in components.__all__:
        exported = getattr(components, name)
        assert exported.__doc__, f"components.{name} has no docstring"
    assert issubclass(components.RegionStack, pulumi.ComponentResource)
    assert issubclass(components.Network, pulumi.ComponentResource)
