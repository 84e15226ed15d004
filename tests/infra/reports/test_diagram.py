"""The architecture diagram: the model read from the offline plan, then the SVG drawn from the model."""

from __future__ import annotations

import dataclasses
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from infra.cli import main
from infra.config.loading import load_stack_file
from infra.plan.mocks import RecordedResource
from infra.plan.run import Plan
from infra.reports.diagram import (
    BOX_WIDTH,
    CHAR,
    FONT,
    HEADING_SIZES,
    MARGIN,
    Architecture,
    Component,
    Region,
    ReplicationLink,
    architecture,
    diagram_path,
    render_svg,
    write_diagram,
)
from infra.reports.docs import README_DIAGRAM_STACK
from tests.support import PLANS, PROJECT_DIR, plan_of, plan_with

SVG = "{http://www.w3.org/2000/svg}"
DB_CLUSTER = "aws:rds/cluster:Cluster"
DB_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
GLOBAL_DATASTORE = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
VPC = "aws:ec2/vpc:Vpc"


@pytest.fixture
def staging_plan() -> Plan:
    return plan_of("staging")


def _texts(svg: str) -> list[str]:
    """Every text element's content, with the renderer's no-break spaces as plain spaces."""
    root = ET.fromstring(svg)
    return [(t.text or "").replace("\u00a0", " ") for t in root.iter(f"{SVG}text")]


def _region_boxes(svg: str) -> list[tuple[int, int, int, int]]:
    """(x, y, width, height) of each region's box: the rects as wide as a box."""
    root = ET.fromstring(svg)
    return [
        (int(r.get("x", 0)), int(r.get("y", 0)), int(r.get("width", 0)), int(r.get("height", 0)))
        for r in root.iter(f"{SVG}rect")
        if r.get("width") == str(BOX_WIDTH)
    ]


def _headings(svg: str) -> dict[str, tuple[int, int]]:
    """Region name → (x, y) of its box's heading."""
    root = ET.fromstring(svg)
    return {
        t.text or "": (int(t.get("x", 0)), int(t.get("y", 0)))
        for t in root.iter(f"{SVG}text")
        if t.get("class") == "heading" and t.text != "Cloudflare edge"
    }


def _store_of(group: RecordedResource) -> str:
    match = re.match(r"Redis store (\S+) ", group.inputs["description"])
    assert match, group.inputs["description"]
    return match.group(1)


# --- the model over the real stacks ---------------------------------------------------------------


def test_prod_regions_come_in_stack_file_order_with_their_roles(prod_plan: Plan) -> None:
    arch = architecture(prod_plan)
    stack_file = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    assert arch.stack == "prod" and len(arch.regions) == 8
    assert [(r.name, r.role) for r in arch.regions] == [(r.name, r.role.value) for r in stack_file.regions]
    assert [r.role for r in arch.regions] == ["primary"] * 4 + ["secondary"] * 4


def test_staging_has_its_two_regions(staging_plan: Plan) -> None:
    arch = architecture(staging_plan)
    assert arch.region_names == ("us-east-1", "eu-west-1")
    assert [r.role for r in arch.regions] == ["primary", "secondary"]


def test_network_facts_are_the_vpcs_and_subnets(stack_plan: Plan) -> None:
    arch = architecture(stack_plan)
    stack_file = load_stack_file(PROJECT_DIR / f"Pulumi.{stack_plan.stack}.yaml")
    cidrs = {stack_plan.regions[v.urn]: v.inputs["cidrBlock"] for v in stack_plan.of_type(VPC)}
    for entry in stack_file.regions:
        region = arch.region(entry.name)
        assert region.cidr == cidrs[entry.name] == entry.cidr
        assert region.az_count == entry.az_count
        network = region.component("network")
        assert network is not None and network.summary.startswith(f"VPC {entry.cidr} · {entry.az_count} AZ")


def test_aurora_link_runs_from_the_write_home_to_every_region_with_a_cluster(stack_plan: Plan) -> None:
    arch = architecture(stack_plan)
    (link,) = [link for link in arch.links if link.kind == "postgres"]
    with_cluster = {stack_plan.regions[c.urn] for c in stack_plan.of_type(DB_CLUSTER)}
    assert link.source == stack_plan.outputs["writeHome"] == arch.write_home
    assert set(link.members) == with_cluster and len(link.members) == len(with_cluster)
    assert link.targets == tuple(r for r in arch.region_names if r in with_cluster - {link.source})
    assert stack_plan.outputs["postgresGlobalClusterId"] in link.label
    assert link.describe().startswith(f"{link.label}: {link.source} (writer) ⇒ ")


def test_each_database_member_shows_its_instances(stack_plan: Plan) -> None:
    arch = architecture(stack_plan)
    instances: dict[str, int] = {}
    for instance in stack_plan.of_type(DB_INSTANCE):
        home = stack_plan.regions[instance.urn]
        assert home is not None
        instances[home] = instances.get(home, 0) + 1
    for region in arch.regions:
        postgres = region.component("postgres")
        if region.name not in instances:
            assert postgres is None
            continue
        assert postgres is not None
        count = instances[region.name]
        if region.name == arch.write_home:
            readers = f"{count - 1} reader" + ("s" if count != 2 else "")
            assert postgres.summary == f"Aurora PostgreSQL 16.8: writer + {readers}"
        else:
            readers = f"{count} reader" + ("s" if count != 1 else "")
            # Every secondary forwards its region's writes to the writer.
            assert postgres.summary == f"Aurora PostgreSQL 16.8: secondary, {readers}, forwards writes"


def test_redis_links_match_the_replication_groups_of_each_global_datastore(
    global_stores_project: Path,
) -> None:
    """On staging with its store replicated (neither stack file replicates one now)."""
    stack_plan = PLANS(global_stores_project, "staging")
    arch = architecture(stack_plan)
    links = {link.tag: link for link in arch.links if link.kind == "redis"}
    datastore_ids = stack_plan.outputs["redisGlobalDatastoreIds"]
    assert set(links) == set(datastore_ids) and len(stack_plan.of_type(GLOBAL_DATASTORE)) == len(links)
    assert links, "the variant replicates a store"
    for store, datastore_id in datastore_ids.items():
        groups = [g for g in stack_plan.of_type(REPLICATION_GROUP) if _store_of(g) == store]
        secondaries = {
            stack_plan.regions[g.urn]
            for g in groups
            if g.inputs.get("globalReplicationGroupId") == datastore_id
        }
        (primary,) = [
            stack_plan.regions[g.urn]
            for d in stack_plan.of_type(GLOBAL_DATASTORE)
            for g in groups
            if d.inputs["primaryReplicationGroupId"] == g.inputs["replicationGroupId"]
        ]
        link = links[store]
        assert link.source == primary == stack_plan.outputs["writeHome"]
        assert set(link.targets) == secondaries and secondaries
        assert datastore_id in link.label


def test_redis_store_lines_carry_shards_and_replicas_from_the_groups(prod_plan: Plan) -> None:
    arch = architecture(prod_plan)
    for group in prod_plan.of_type(REPLICATION_GROUP):
        if group.inputs.get("globalReplicationGroupId"):
            continue  # a secondary's shards are its datastore's
        region = prod_plan.regions[group.urn]
        assert region is not None
        redis = arch.region(region).component("redis")
        assert redis is not None and redis.summary.startswith("ElastiCache Valkey 8.0: 3 stores")
        shards, replicas = int(group.inputs["numNodeGroups"]), int(group.inputs["replicasPerNodeGroup"])
        (line,) = [d for d in redis.details if d.startswith(f"{_store_of(group)}:")]
        assert f"{shards} shard" in line and f"× {replicas} replica" in line
        assert group.inputs["nodeType"] in line


def test_cluster_mode_is_read_from_the_groups_and_secondaries_take_their_primarys(prod_plan: Plan) -> None:
    def summaries(plan: Plan) -> dict[str, str]:
        arch = architecture(plan)
        return {name: arch.region(name).component("redis").summary for name in arch.region_names}  # type: ignore[union-attr]

    assert all(summary.endswith(", cluster mode") for summary in summaries(prod_plan).values())
    # Every primary group with cluster mode off: no region may claim it, secondaries included.
    resources = [
        dataclasses.replace(r, inputs={**r.inputs, "clusterMode": "disabled"})
        if r.type == REPLICATION_GROUP and "clusterMode" in r.inputs
        else r
        for r in prod_plan.resources
    ]
    altered = Plan(
        project=prod_plan.project, stack=prod_plan.stack, resources=resources, outputs=prod_plan.outputs
    )
    assert not any("cluster mode" in summary for summary in summaries(altered).values())


def test_eks_line_names_the_version_node_groups_and_add_ons(prod_plan: Plan) -> None:
    eks = architecture(prod_plan).region("ap-northeast-1").component("eks")
    assert eks == Component(
        "eks",
        "EKS 1.36: 2 node groups, Istio, Karpenter",
        ("apps, system · Istio 1.31.1 · Karpenter 1.15.0",),
    )


def test_edge_has_every_cloudflare_region_of_the_steering(stack_plan: Plan) -> None:
    edge = architecture(stack_plan).edge
    cdn = stack_plan.outputs["cdn"]
    assert edge is not None
    assert edge.hostname == cdn["hostname"]
    assert edge.fallback_region == cdn["fallbackRegion"]
    assert {s.code: list(s.order) for s in edge.steering} == cdn["steering"]
    assert set(edge.pools) == set(cdn["poolIds"])
    assert [s.place for s in edge.steering if s.code == "WNAM"] == ["Western North America"]
    assert any(fact.startswith("WAF: Cloudflare Managed Ruleset") for fact in edge.facts)
    assert any(fact.startswith("Rate limit: API: ") for fact in edge.facts)


def test_each_region_names_the_cloudflare_regions_it_is_first_choice_for(prod_plan: Plan) -> None:
    arch = architecture(prod_plan)
    steering = prod_plan.outputs["cdn"]["steering"]
    for region in arch.regions:
        firsts = [code for code, order in steering.items() if order[0] == region.name]
        edge = region.component("edge")
        assert edge is not None
        assert all(code in edge.summary for code in firsts)
        assert edge.summary.startswith("Cloudflare pool: 1st for " if firsts else "Cloudflare pool: 2nd for ")


def test_model_follows_the_plan_not_fixed_values(tmp_path: Path, staging_plan: Plan) -> None:
    """A third region, the database in two of the three, and one more reader: the picture changes."""

    def change(config: dict[str, Any]) -> None:
        config["meridian:regions"].append(
            {
                "name": "us-west-2",
                "role": "secondary",
                "cidr": "10.64.32.0/20",
                "azIds": ["usw2-az2", "usw2-az1"],
            }
        )
        config["meridian:postgres"]["regions"] = ["us-east-1", "us-west-2"]
        config["meridian:sizes"]["primary"]["postgres"]["readerInstances"] = 2

    before = architecture(staging_plan)
    after = architecture(plan_with(tmp_path, "staging", change))
    assert after.region_names == ("us-east-1", "eu-west-1", "us-west-2")
    assert after.region("us-west-2").role == "secondary" and after.region("us-west-2").cidr == "10.64.32.0/20"
    # eu-west-1 left the database: no component, no link membership.
    assert before.region("eu-west-1").component("postgres") is not None
    assert after.region("eu-west-1").component("postgres") is None
    (aurora,) = [link for link in after.links if link.kind == "postgres"]
    assert aurora.source == "us-east-1" and aurora.targets == ("us-west-2",)
    writer = after.region("us-east-1").component("postgres")
    assert writer is not None and writer.summary.endswith("writer + 2 readers")
    assert after.edge is not None and "us-west-2" in after.edge.pools
    svg = render_svg(after)
    assert svg != render_svg(before)
    assert "us-west-2" in _texts(svg) and "us-west-2" not in _texts(render_svg(before))


def _resource(urn: str, type_token: str, parent: str | None = None, **inputs: Any) -> RecordedResource:
    """A registration as the monitor records it: custom unless a `meridian:` component, in sa-east-1."""
    custom = not type_token.startswith("meridian:")
    provider = "urn:aws" if custom and not type_token.startswith("pulumi:providers:") else None
    name = urn.removeprefix("urn:")
    return RecordedResource(urn, type_token, name, parent, custom, provider, inputs=inputs)


def test_a_region_with_only_a_network_draws_only_that() -> None:
    """A hand-made plan: facts the plan lacks (database, Redis, edge, links) are simply absent."""
    provider = _resource("urn:aws", "pulumi:providers:aws", region="sa-east-1")
    stack = _resource("urn:sa-east-1", "meridian:region:RegionStack")
    network = _resource("urn:net", "meridian:network:Network", "urn:sa-east-1")
    vpc = _resource("urn:vpc", VPC, "urn:net", cidrBlock="10.9.0.0/16")
    subnets = [
        _resource(f"urn:sub-{z}", "aws:ec2/subnet:Subnet", "urn:net", availabilityZone=f"sa-east-1{z}")
        for z in "ab"
    ]
    plan = Plan("meridian", "tiny", [provider, stack, network, vpc, *subnets])
    arch = architecture(plan)
    assert arch.edge is None and arch.links == () and arch.write_home is None
    (region,) = arch.regions
    assert region == Region(
        "sa-east-1",
        "region",
        "10.9.0.0/16",
        2,
        (Component("network", "VPC 10.9.0.0/16 · 2 AZs · 0 NAT gateways"),),
    )
    assert "sa-east-1" in _texts(render_svg(arch))


# --- the drawing ---------------------------------------------------------------------------------


def test_svg_parses_with_namespace_viewbox_and_white_background(stack_plan: Plan) -> None:
    arch = architecture(stack_plan)
    svg = render_svg(arch)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    _, _, width, height = (int(v) for v in root.attrib["viewBox"].split())
    assert (root.get("width"), root.get("height")) == (str(width), str(height))
    background = root.find(f"{SVG}rect")
    assert background is not None
    assert (background.get("width"), background.get("height"), background.get("fill")) == (
        str(width),
        str(height),
        "#ffffff",
    )
    texts = _texts(svg)
    assert all(name in texts for name in arch.region_names)
    assert arch.edge is not None and arch.edge.hostname in texts
    assert all(any(t.startswith(f"{s.code} (") for t in texts) for s in arch.edge.steering)
    for link in arch.links:
        assert any(link.label in t for t in texts)


def test_prod_is_about_1600_wide_and_its_boxes_stay_inside_and_apart(prod_plan: Plan) -> None:
    arch = architecture(prod_plan)
    svg = render_svg(arch)
    width = int(ET.fromstring(svg).attrib["viewBox"].split()[2])
    assert 1500 <= width <= 1700
    boxes = _region_boxes(svg)
    assert len(boxes) == 8
    assert len({y for _, y, _, _ in boxes}) == 2  # primaries in one row, secondaries in the next
    _assert_apart(boxes, width)
    headings = _headings(svg)
    primaries = [headings[r.name] for r in arch.regions if r.role == "primary"]
    secondaries = [headings[r.name] for r in arch.regions if r.role == "secondary"]
    assert len({y for _, y in primaries}) == len({y for _, y in secondaries}) == 1
    assert primaries[0][1] < secondaries[0][1]
    assert primaries == sorted(primaries) and secondaries == sorted(secondaries)  # stack order, left to right


def _assert_apart(boxes: list[tuple[int, int, int, int]], width: int) -> None:
    for i, (x, y, w, h) in enumerate(boxes):
        assert x > 0 and x + w < width
        for x2, y2, w2, h2 in boxes[i + 1 :]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, "region boxes overlap"


@pytest.mark.parametrize("primaries, secondaries", [(1, 0), (1, 1), (9, 3)])
def test_any_number_of_regions_gets_a_grid_of_its_own(primaries: int, secondaries: int) -> None:
    regions = tuple(
        Region(f"r-{role}-{i}", role, "10.0.0.0/16", 3, (Component("network", "VPC 10.0.0.0/16"),))
        for role, count in (("primary", primaries), ("secondary", secondaries))
        for i in range(count)
    )
    link = ReplicationLink("postgres", "Aurora", "Aurora global database db", regions[0].name,
                           tuple(r.name for r in regions[1:]), "writer", "secondary")  # fmt: skip
    svg = render_svg(Architecture("meridian", "test", 1, None, regions, (link,)))
    width = int(ET.fromstring(svg).attrib["viewBox"].split()[2])
    boxes = _region_boxes(svg)
    assert len(boxes) == len(regions)
    assert len({x for x, _, _, _ in boxes}) == min(4, max(primaries, secondaries))
    _assert_apart(boxes, width)
    assert all(r.name in _texts(svg) for r in regions)
    _assert_text_fits(svg)


def _assert_text_fits(svg: str) -> None:
    """No text runs into the margins, at the monospace advance the layout assumes."""
    root = ET.fromstring(svg)
    width = int(root.attrib["viewBox"].split()[2])
    for text in root.iter(f"{SVG}text"):
        size = HEADING_SIZES.get(text.get("class", ""), FONT)
        length = len(text.text or "") * size * CHAR
        x = int(text.get("x", 0))
        start = {"middle": x - length / 2, "end": x - length}.get(text.get("text-anchor", ""), x)
        assert start >= MARGIN and start + length <= width - MARGIN, f"{text.text!r} runs into the margin"


def test_text_stays_inside_the_picture(stack_plan: Plan) -> None:
    _assert_text_fits(render_svg(architecture(stack_plan)))


def test_no_text_is_smaller_than_twelve_pixels(prod_plan: Plan) -> None:
    svg = render_svg(architecture(prod_plan))
    root = ET.fromstring(svg)
    style = root.find(f"{SVG}style")
    assert style is not None and style.text
    sizes = [int(s) for s in re.findall(r"font-size:\s*(\d+)px", style.text)]
    assert sizes and min(sizes) >= 12 and FONT >= 12
    assert not [e for e in root.iter() if "font-size" in e.attrib]


def test_rendering_is_deterministic(staging_plan: Plan) -> None:
    """The same model gives the same bytes, and so does a second run of the program."""
    arch = architecture(staging_plan)
    assert render_svg(arch) == render_svg(arch)
    again = PLANS.fresh(PROJECT_DIR, "staging")  # a real second run, not the session's cached plan
    assert again is not staging_plan and architecture(again) == arch
    assert render_svg(architecture(again)) == render_svg(arch)
    assert not re.search(r"\bid=", render_svg(arch))


def test_text_is_escaped(staging_plan: Plan) -> None:
    arch = architecture(staging_plan)
    odd = "eu-<west>&1"
    assert arch.edge is not None
    strange = dataclasses.replace(
        arch,
        regions=(arch.regions[0], dataclasses.replace(arch.regions[1], name=odd)),
        edge=dataclasses.replace(arch.edge, hostname="a&b<c>.example.com"),
    )
    svg = render_svg(strange)
    assert "<west>" not in svg and "&amp;1" in svg
    texts = _texts(svg)
    assert odd in texts and "a&b<c>.example.com" in texts


def test_write_diagram_writes_svg_and_refuses_other_formats(tmp_path: Path, staging_plan: Plan) -> None:
    target = tmp_path / "architecture.svg"
    write_diagram(staging_plan, target)
    assert target.read_text(encoding="utf-8") == render_svg(architecture(staging_plan))
    with pytest.raises(ValueError, match=r"architecture\.png: .*\.svg"):
        write_diagram(staging_plan, tmp_path / "architecture.png")
    assert not (tmp_path / "architecture.png").exists()


# --- the README's picture and the command -----------------------------------------------------------


def test_the_readme_embeds_the_prod_picture_drawn_from_the_current_plan(prod_plan: Plan) -> None:
    committed = diagram_path(PROJECT_DIR, README_DIAGRAM_STACK)
    assert f"]({committed.relative_to(PROJECT_DIR)})" in (PROJECT_DIR / "README.md").read_text()
    assert committed.read_text(encoding="utf-8") == render_svg(architecture(prod_plan)), (
        "the picture is out of date: run `python -m infra.reports.docs --write` (or `make diagram`)"
    )


def test_diagram_command_draws_a_stack_to_the_given_file(tmp_path: Path, staging_plan: Plan) -> None:
    output = tmp_path / "out" / "staging.svg"
    args = ["diagram", "--stack", "staging", "--project-dir", str(PROJECT_DIR), "--output", str(output)]
    assert main(args) == 0
    assert output.read_text(encoding="utf-8") == render_svg(architecture(staging_plan))


def test_diagram_command_defaults_to_the_docs_folder_of_the_project(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    assert main(["diagram", "--stack", "staging", "--project-dir", str(tmp_path)]) == 0
    assert (tmp_path / "docs" / "architecture-staging.svg").is_file()


def test_diagram_command_refuses_other_formats_before_planning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No stack file in the folder: the format is refused before the plan would fail on it.
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    args = ["diagram", "--stack", "staging", "--project-dir", str(tmp_path), "--output", "arch.png"]
    assert main(args) == 2
    assert "drawn as SVG only" in capsys.readouterr().err


def test_after_a_failover_the_links_run_from_the_new_write_home(global_stores_project: Path) -> None:
    """The plan still declares the global resources in the anchor (us-east-1); the picture shows
    where writes go now. Staging's store is regional (no link); with it replicated, its link moves too."""
    from infra.config.loading import namespace_values, read_stack_file
    from infra.operations.failover import config_after_failover
    from infra.plan.run import plan_after

    for project in (PROJECT_DIR, global_stores_project):
        values = namespace_values(read_stack_file(project / "Pulumi.staging.yaml"))
        after, _ = config_after_failover(values, "eu-west-1")
        links = {link.kind: link for link in architecture(plan_after(project, "staging", after)).links}
        assert links["postgres"].source == "eu-west-1"
        assert set(links["postgres"].targets) == {r["name"] for r in values["regions"]} - {"eu-west-1"}
        if project == PROJECT_DIR:
            assert "redis" not in links
        else:
            assert links["redis"].source == "eu-west-1" and links["redis"].targets == ("us-east-1",)
