"""PostgresCluster as both stacks declare it, read from the offline plan after the program ran."""

from __future__ import annotations

import json
import re

import pytest

from components.network.subnets import Tier
from components.postgres.postgres_cluster import AWS_OWNED, CA_CERTIFICATE
from infra.config.rules import PROD_MIN_BACKUP_RETENTION_DAYS
from infra.plan.mocks import MOCK_ACCOUNT_ID, RecordedResource, mock_password
from infra.plan.run import Plan
from tests.support import (
    assert_final_snapshot_follows_replacement,
    config_of,
    in_region,
    key_arn,
    node_group_id,
    only,
    strings_in,
)

GLOBAL = "aws:rds/globalCluster:GlobalCluster"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
PROXY = "aws:rds/proxy:Proxy"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECRET = "aws:secretsmanager/secret:Secret"


def of_postgres(plan: Plan, type_token: str) -> list[RecordedResource]:
    """Resources of `type_token` inside PostgresClusters (other components have secrets too)."""
    return plan.within("meridian:postgres:PostgresCluster", type_token)


def cluster_in(plan: Plan, region: str) -> RecordedResource:
    return only(plan, CLUSTER, region)


# --- global topology -------------------------------------------------------------------------


def test_one_global_database_of_aurora_postgresql_16_in_the_write_home(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    (global_cluster,) = stack_plan.of_type(GLOBAL)
    assert global_cluster.inputs["engine"] == "aurora-postgresql"
    assert re.fullmatch(r"16\.\d+", global_cluster.inputs["engineVersion"])
    assert global_cluster.inputs["engineVersion"] == config.postgres.engine_version
    assert global_cluster.inputs["storageEncrypted"] is True
    assert global_cluster.inputs["globalClusterIdentifier"] == f"meridian-{stack_plan.stack}-postgres"
    assert stack_plan.regions[global_cluster.urn] == config.write_home
    prod = stack_plan.stack == "prod"
    assert global_cluster.inputs["deletionProtection"] is prod
    assert global_cluster.protect is prod


def test_writer_in_the_write_home_and_a_secondary_in_every_other_database_region(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    clusters = {stack_plan.regions[c.urn]: c for c in stack_plan.of_type(CLUSTER)}
    assert set(clusters) == set(config.postgres_regions())
    assert set(clusters) == {r.name for r in config.regions}  # both stacks put a member everywhere
    (global_cluster,) = stack_plan.of_type(GLOBAL)
    writer_instances = {i.urn for i in in_region(stack_plan, INSTANCE, config.write_home)}
    for region, cluster in clusters.items():
        inputs = cluster.inputs
        assert inputs["globalClusterIdentifier"] == global_cluster.id
        assert inputs["clusterIdentifier"] == f"meridian-{stack_plan.stack}-{region}-postgres"
        assert inputs["engine"] == "aurora-postgresql"
        if region == config.write_home:
            assert inputs["masterUsername"] == config.postgres.master_username
            assert inputs["databaseName"] == config.postgres.database_name
            assert global_cluster.urn in cluster.dependencies
        else:
            # A secondary replicates the writer: AWS rejects a user name or password on it, and it
            # may only join once the writer has an instance.
            assert not {"masterUsername", "masterPasswordWo", "databaseName"} & set(inputs)
            assert writer_instances and writer_instances <= set(cluster.dependencies)


def test_instances_writer_plus_readers_at_home_readers_elsewhere_spread_over_azs(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    roles = {r.name: r.role for r in config.regions}
    for region in config.postgres_regions():
        sizes = config.sizes[roles[region]].postgres
        instances = sorted(in_region(stack_plan, INSTANCE, region), key=lambda i: i.inputs["identifier"])
        expected = sizes.reader_instances + (1 if region == config.write_home else 0)
        assert len(instances) == expected, region
        zones = [i.inputs["availabilityZone"] for i in instances]
        azs = next(r for r in config.regions if r.name == region).az_count
        assert len(set(zones)) == min(expected, azs), f"{region}: {zones}"
        for index, instance in enumerate(instances):
            inputs = instance.inputs
            assert inputs["identifier"] == f"meridian-{stack_plan.stack}-{region}-postgres-{index + 1}"
            assert inputs["instanceClass"] == sizes.instance_class
            assert inputs["publiclyAccessible"] is False
            assert inputs["performanceInsightsEnabled"] is True
            assert inputs["performanceInsightsKmsKeyId"] == key_arn(stack_plan, region)
            assert inputs["monitoringInterval"] == config.postgres.monitoring_interval_seconds
            assert inputs["monitoringRoleArn"].startswith(f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/")
            assert inputs["caCertIdentifier"] == CA_CERTIFICATE
            assert inputs["autoMinorVersionUpgrade"] is False
            assert inputs["preferredMaintenanceWindow"] == config.postgres.maintenance_window
            # Aurora makes the first instance up the writer: the others wait for instance 1.
            assert (instances[0].urn in instance.dependencies) is (index > 0)


def test_enhanced_monitoring_role_trusts_rds_monitoring_for_this_account_only(stack_plan: Plan) -> None:
    roles = stack_plan.of_type("aws:iam/role:Role")
    role_arns = {i.inputs["monitoringRoleArn"] for i in stack_plan.of_type(INSTANCE)}
    assert len(role_arns) == len(stack_plan.of_type(CLUSTER))  # one role per regional cluster
    for arn in role_arns:
        # Auto-named: the physical name is the logical name plus a random suffix.
        (role,) = [
            r for r in roles if re.fullmatch(rf"{re.escape(r.name)}-[0-9a-f]{{7}}", arn.rsplit("/", 1)[1])
        ]
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT_ID}}


def test_every_cluster_encrypted_with_its_own_regions_key(stack_plan: Plan) -> None:
    keys = set()
    for cluster in stack_plan.of_type(CLUSTER):
        region = stack_plan.regions[cluster.urn]
        assert cluster.inputs["storageEncrypted"] is True
        assert cluster.inputs["kmsKeyId"] == key_arn(stack_plan, region)
        assert cluster.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        keys.add(cluster.inputs["kmsKeyId"])
    assert len(keys) == len(stack_plan.of_type(CLUSTER))


def test_iam_auth_logs_backups_and_tags_to_snapshots(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    groups = {g.inputs["name"]: g for g in stack_plan.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for cluster in stack_plan.of_type(CLUSTER):
        inputs = cluster.inputs
        assert inputs["iamDatabaseAuthenticationEnabled"] is True
        assert inputs["enabledCloudwatchLogsExports"] == ["postgresql"]
        assert inputs["copyTagsToSnapshot"] is True
        assert inputs["backupRetentionPeriod"] == config.postgres.backup_retention_days
        assert inputs["preferredBackupWindow"] == config.postgres.backup_window
        assert inputs["preferredMaintenanceWindow"] == config.postgres.maintenance_window
        group = groups[f"/aws/rds/cluster/{inputs['clusterIdentifier']}/postgresql"]
        assert group.inputs["kmsKeyId"] == inputs["kmsKeyId"]
        assert group.inputs["retentionInDays"] == config.postgres.log_retention_days
        assert group.urn in cluster.dependencies, "RDS would create the group itself, unencrypted"


def test_parameter_group_forces_tls_and_logs_slow_statements(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    groups = stack_plan.of_type(PARAMETER_GROUP)
    assert len(groups) == len(stack_plan.of_type(CLUSTER))
    for group in groups:
        assert group.inputs["family"] == "aurora-postgresql16"
        parameters = {p["name"]: p for p in group.inputs["parameters"]}
        assert parameters["rds.force_ssl"]["value"] == "1"
        assert parameters["ssl_min_protocol_version"]["value"] == "TLSv1.2"
        assert parameters["log_min_duration_statement"]["value"] == str(config.postgres.slow_statement_ms)
        assert parameters["shared_preload_libraries"]["applyMethod"] == "pending-reboot"
        assert "pgaudit" in parameters["shared_preload_libraries"]["value"]
        # Forwarded writes read back as configured. Both settings are static (applied at a reboot),
        # in the lower case of AWS's AllowedValues ("off,eventual,session,global").
        forwarding = config.postgres.write_forwarding
        assert parameters["apg_write_forward.consistency_mode"] == {
            "name": "apg_write_forward.consistency_mode",
            "value": forwarding.consistency_mode,
            "applyMethod": "pending-reboot",
        }
        quota = parameters["apg_write_forward.max_forwarding_connections_percent"]
        assert quota == {
            "name": "apg_write_forward.max_forwarding_connections_percent",
            "value": str(forwarding.max_forwarding_connections_percent),
            "applyMethod": "pending-reboot",
        }
        # Every member carries the managed RPO, so the writer enforces it wherever it is now.
        rpo = config.postgres.managed_rpo_seconds
        assert parameters.get("rds.global_db_rpo", {}).get("value") == (str(rpo) if rpo else None)
        if rpo:  # dynamic: a change applies at once
            assert parameters["rds.global_db_rpo"]["applyMethod"] == "immediate"
    assert (config.postgres.managed_rpo_seconds == 20) is (stack_plan.stack == "prod")
    for cluster in stack_plan.of_type(CLUSTER):
        # A secondary forwards its region's writes; the writer does once a failover demotes it.
        assert cluster.inputs["enableGlobalWriteForwarding"] is True
        region = stack_plan.regions[cluster.urn]
        (group,) = in_region(stack_plan, PARAMETER_GROUP, region)
        assert cluster.inputs["dbClusterParameterGroupName"] == group.inputs["name"]


def test_isolated_subnets_nodes_reach_the_proxy_and_the_database_nothing_else_does(
    stack_plan: Plan,
) -> None:
    """The nodes reach the proxy, and the database itself for forwarded writes (a secondary's
    reader endpoint: AWS documents forwarding there, not through a proxy); both with IAM tokens."""
    config = config_of(stack_plan)
    for cluster in stack_plan.of_type(CLUSTER):
        region = stack_plan.regions[cluster.urn]
        (subnet_group,) = in_region(stack_plan, "aws:rds/subnetGroup:SubnetGroup", region)
        isolated = {
            s.id
            for s in in_region(stack_plan, "aws:ec2/subnet:Subnet", region)
            if s.inputs["tags"]["meridian/tier"] == Tier.ISOLATED.value
        }
        assert set(subnet_group.inputs["subnetIds"]) == isolated
        assert cluster.inputs["dbSubnetGroupName"] == subnet_group.inputs["name"]
        (db_group,) = cluster.inputs["vpcSecurityGroupIds"]
        (proxy,) = in_region(stack_plan, PROXY, region)
        (proxy_group,) = proxy.inputs["vpcSecurityGroupIds"]
        rules = [r for r in in_region(stack_plan, INGRESS_RULE, region) if "postgres" in r.name]
        sources = {(r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"]) for r in rules}
        nodes = node_group_id(stack_plan, region)
        assert sources == {(db_group, proxy_group), (db_group, nodes), (proxy_group, nodes)}
        for rule in rules:
            assert rule.inputs["fromPort"] == rule.inputs["toPort"] == config.postgres.port


def test_no_database_security_group_is_open_to_a_cidr(stack_plan: Plan) -> None:
    """The database and proxy groups admit security groups only; nothing anywhere admits the world
    (the VPC endpoints' group admits its own VPC's range on 443, which is fine)."""
    groups = stack_plan.of_type("aws:ec2/securityGroup:SecurityGroup")
    database_groups = {g.id for g in groups if g.name.endswith(("-postgres-db", "-postgres-proxy"))}
    assert len(database_groups) == 2 * len(stack_plan.of_type(CLUSTER))
    for rule in stack_plan.of_type(INGRESS_RULE):
        if rule.inputs["securityGroupId"] in database_groups:
            assert rule.inputs["referencedSecurityGroupId"].startswith("sg-"), rule.urn
            assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs, rule.urn
        assert rule.inputs.get("cidrIpv4") != "0.0.0.0/0", rule.urn
    for group in groups:
        if group.id in database_groups:
            assert not group.inputs.get("ingress"), group.urn
        for ingress in group.inputs.get("ingress", []):
            assert "0.0.0.0/0" not in ingress.get("cidrBlocks", []), group.urn


def test_prod_keeps_every_byte_staging_can_be_torn_down(stack_plan: Plan) -> None:
    prod = stack_plan.stack == "prod"
    config = config_of(stack_plan)
    if prod:
        assert config.postgres.backup_retention_days >= PROD_MIN_BACKUP_RETENTION_DAYS
    for cluster in stack_plan.of_type(CLUSTER):
        inputs = cluster.inputs
        assert inputs["deletionProtection"] is prod
        assert inputs["skipFinalSnapshot"] is not prod
        # Prod names the final snapshot per generation (see the test below); staging takes none.
        final = inputs.get("finalSnapshotIdentifier")
        assert final.startswith(f"{inputs['clusterIdentifier']}-final-") if prod else final is None
        assert inputs["deleteAutomatedBackups"] is not prod
        assert cluster.protect is prod
    for kind in (GLOBAL, SECRET, "aws:backup/vault:Vault"):
        for resource in stack_plan.of_type(kind):
            assert resource.protect is prod, resource.urn
    for vault in stack_plan.of_type("aws:backup/vault:Vault"):
        assert vault.inputs["forceDestroy"] is not prod
    (secret,) = of_postgres(stack_plan, SECRET)
    assert secret.inputs["recoveryWindowInDays"] == (30 if prod else 0)
    (password,) = of_postgres(stack_plan, "random:index/randomPassword:RandomPassword")
    assert password.inputs["keepers"] == {"version": str(config.postgres.master_password_version)}


def test_after_a_failover_the_program_does_not_fight_aws(stack_plan: Plan) -> None:
    """What a managed switchover or failover changes is AWS's: the program ignores it
    (docs/components/postgres-cluster.md, "PostgreSQL failover")."""
    assert set(AWS_OWNED) == {"engineVersion", "replicationSourceIdentifier", "globalClusterIdentifier"}
    for cluster in stack_plan.of_type(CLUSTER):
        assert "replicationSourceIdentifier" not in cluster.inputs
        assert set(cluster.ignore_changes) == set(AWS_OWNED), cluster.urn


# --- credentials -------------------------------------------------------------------------------


def test_no_plain_text_password_anywhere(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    home = config.write_home
    (password,) = of_postgres(stack_plan, "random:index/randomPassword:RandomPassword")
    generated = mock_password(password.name, int(password.inputs["length"]))
    for resource in stack_plan.resources:
        assert "masterPassword" not in resource.inputs, resource.urn
        assert "secretString" not in resource.inputs, resource.urn
        assert generated not in strings_in(resource.inputs), f"{resource.urn} holds the password"
    writer = cluster_in(stack_plan, home)
    assert writer.inputs["masterPasswordWo"] == "[secret]"
    assert writer.inputs["masterPasswordWoVersion"] == config.postgres.master_password_version
    assert "manageMasterUserPassword" not in writer.inputs  # not supported in a global database
    (version,) = of_postgres(stack_plan, "aws:secretsmanager/secretVersion:SecretVersion")
    assert version.inputs["secretStringWo"] == "[secret]"
    assert version.inputs["secretStringWoVersion"] == config.postgres.master_password_version
    assert writer.urn in version.dependencies, "the secret would hold a password the cluster lacks"


def test_master_secret_encrypted_and_replicated_to_every_member_region(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    (secret,) = of_postgres(stack_plan, SECRET)
    assert stack_plan.regions[secret.urn] == config.write_home
    assert secret.inputs["name"] == f"meridian-{stack_plan.stack}/postgres/master"
    assert secret.inputs["kmsKeyId"] == key_arn(stack_plan, config.write_home)
    replicas = {r["region"]: r["kmsKeyId"] for r in secret.inputs["replicas"]}
    assert replicas == {r: key_arn(stack_plan, r) for r in config.postgres_regions()[1:]}


# --- proxy ---------------------------------------------------------------------------------------


def test_a_proxy_per_region_tls_and_end_to_end_iam(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    roles = {r.name: r for r in stack_plan.of_type("aws:iam/role:Role")}
    for cluster in stack_plan.of_type(CLUSTER):
        region = stack_plan.regions[cluster.urn]
        (proxy,) = in_region(stack_plan, PROXY, region)
        assert proxy.inputs["engineFamily"] == "POSTGRESQL"
        assert proxy.inputs["requireTls"] is True
        assert proxy.inputs["defaultAuthScheme"] == "IAM_AUTH"
        assert "auths" not in proxy.inputs
        (target,) = in_region(stack_plan, "aws:rds/proxyTarget:ProxyTarget", region)
        assert target.inputs["dbClusterIdentifier"] == cluster.inputs["clusterIdentifier"]
        instances = {i.urn for i in in_region(stack_plan, INSTANCE, region)}
        assert instances <= set(target.dependencies)
        (readers,) = in_region(stack_plan, "aws:rds/proxyEndpoint:ProxyEndpoint", region)
        assert readers.inputs["targetRole"] == "READ_ONLY"
        # The proxy leaves the writer's forwarding quota free (AWS: reduce MaxConnectionsPercent by it).
        (pool,) = in_region(stack_plan, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", region)
        share = pool.inputs["connectionPoolConfig"]["maxConnectionsPercent"]
        assert share + config.postgres.write_forwarding.max_forwarding_connections_percent <= 100
        role = roles[proxy.name]
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "rds.amazonaws.com"}
        assert trust["Action"] == "sts:AssumeRole"
        (policy,) = [
            p for p in in_region(stack_plan, "aws:iam/rolePolicy:RolePolicy", region)
            if p.parent == role.urn
        ]  # fmt: skip
        (statement,) = json.loads(policy.inputs["policy"])["Statement"]
        assert statement["Action"] == "rds-db:connect"
        users = [arn.rsplit("/", 1)[1] for arn in statement["Resource"]]
        assert users == list(config.postgres.iam_users)
        assert config.postgres.master_username not in users
        for arn in statement["Resource"]:
            # The cluster's resource id (cluster-<26 characters>), not its name.
            assert re.fullmatch(
                rf"arn:aws:rds-db:{region}:{MOCK_ACCOUNT_ID}:dbuser:cluster-[0-9A-F]{{26}}/\w+", arn
            ), arn


def test_the_apis_pods_may_connect_through_their_regions_proxy_as_the_app_users(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for region in config.postgres_regions():
        (association,) = [
            a
            for a in in_region(stack_plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation", region)
            if a.inputs["namespace"] == config.eks.app.namespace
            and a.inputs["serviceAccount"] == config.eks.app.deployment_name
        ]
        assert association.inputs["serviceAccount"] == config.eks.app.deployment_name
        (role,) = [r for r in in_region(stack_plan, "aws:iam/role:Role", region) if r.name.endswith("-app")]
        (connect,) = [
            p
            for p in in_region(stack_plan, "aws:iam/rolePolicy:RolePolicy", region)
            if p.parent == role.urn and p.name.endswith("-postgres-connect")
        ]
        proxy_statement, cluster_statement = json.loads(connect.inputs["policy"])["Statement"]
        # Through this region's proxy (its prx- id), and to its own cluster (cluster- resource id)
        # for forwarded writes, as the app users only; nothing else.
        for statement, resource in (
            (proxy_statement, "prx-[0-9a-f]{17}"),
            (cluster_statement, "cluster-[0-9A-F]{26}"),
        ):
            assert statement["Action"] == "rds-db:connect"
            users = [arn.rsplit("/", 1)[1] for arn in statement["Resource"]]
            assert users == list(config.postgres.iam_users)
            for arn in statement["Resource"]:
                assert re.fullmatch(rf"arn:aws:rds-db:{region}:{MOCK_ACCOUNT_ID}:dbuser:{resource}/\w+", arn)
        (agent,) = [
            p
            for p in in_region(stack_plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", region)
            if p.inputs["metadata"]["name"] == "allow-pod-identity-agent"
        ]
        assert agent.inputs["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "169.254.170.23/32"}}]


# --- backups ---------------------------------------------------------------------------------


def test_aws_backup_copies_the_writer_to_a_second_region(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    copy_region = config.postgres.backup.copy_region
    assert copy_region and copy_region != config.write_home
    vaults = {stack_plan.regions[v.urn]: v for v in stack_plan.of_type("aws:backup/vault:Vault")}
    assert set(vaults) == {config.write_home, copy_region}
    for region, vault in vaults.items():
        assert vault.inputs["kmsKeyArn"] == key_arn(stack_plan, region)
    (plan,) = stack_plan.of_type("aws:backup/plan:Plan")
    (rule,) = plan.inputs["rules"]
    assert rule["schedule"] == config.postgres.backup.schedule
    assert rule["lifecycle"]["deleteAfter"] == config.postgres.backup.retention_days
    (copy,) = rule["copyActions"]
    assert copy["destinationVaultArn"].startswith(f"arn:aws:backup:{copy_region}:")
    assert copy["lifecycle"]["deleteAfter"] == config.postgres.backup.copy_retention_days
    (selection,) = stack_plan.of_type("aws:backup/selection:Selection")
    writer = cluster_in(stack_plan, config.write_home)
    assert selection.inputs["resources"] == [
        f"arn:aws:rds:{config.write_home}:{MOCK_ACCOUNT_ID}:cluster:{writer.inputs['clusterIdentifier']}"
    ]


# --- the API can reach it, and nothing else can -------------------------------------------------


def test_api_pods_may_reach_the_database_subnets_on_its_port_only(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    for entry in config.regions:
        (policy,) = [
            p
            for p in in_region(stack_plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", entry.name)
            if p.inputs["metadata"]["name"] == "allow-postgres"
        ]
        assert policy.inputs["metadata"]["namespace"] == config.eks.app.namespace
        (egress,) = policy.inputs["spec"]["egress"]
        isolated = {
            s.inputs["cidrBlock"]
            for s in in_region(stack_plan, "aws:ec2/subnet:Subnet", entry.name)
            if s.inputs["tags"]["meridian/tier"] == Tier.ISOLATED.value
        }
        assert {t["ipBlock"]["cidr"] for t in egress["to"]} == isolated
        assert egress["ports"] == [{"protocol": "TCP", "port": config.postgres.port}]


def test_outputs_per_region_and_global(stack_plan: Plan) -> None:
    config = config_of(stack_plan)
    (global_cluster,) = stack_plan.of_type(GLOBAL)
    assert stack_plan.outputs["postgresGlobalClusterId"] == global_cluster.id
    assert stack_plan.outputs["postgresGlobalWriterEndpoint"].endswith(".global.rds.amazonaws.com")
    assert len(of_postgres(stack_plan, SECRET)) == 1
    home_arn = None
    for region in config.postgres_regions():
        out = stack_plan.outputs["regions"][region]["postgres"]
        assert out["globalClusterIdentifier"] == global_cluster.id
        assert out["role"] == ("writer" if region == config.write_home else "secondary")
        assert out["port"] == config.postgres.port
        assert ".cluster-ro-" in out["readerEndpoint"] and region in out["readerEndpoint"]
        assert out["writerEndpoint"].startswith(f"{out['clusterIdentifier']}.cluster-")
        assert ".proxy-" in out["proxyEndpoint"] and ".endpoint.proxy-" in out["proxyReaderEndpoint"]
        assert out["secretArn"].startswith(f"arn:aws:secretsmanager:{region}:{MOCK_ACCOUNT_ID}:secret:")
        if region == config.write_home:
            home_arn = out["secretArn"]
    # A replica keeps the primary's name and suffix.
    assert home_arn is not None
    suffix = home_arn.split(":secret:")[1]
    for region in config.postgres_regions():
        assert stack_plan.outputs["regions"][region]["postgres"]["secretArn"].endswith(suffix)


@pytest.mark.parametrize("stack", ["prod"])
def test_prod_database_spans_all_eight_regions_within_aws_limits(stack: str, prod_plan: Plan) -> None:
    config = config_of(prod_plan)
    assert len(config.postgres_regions()) == 8  # writer + 7 secondaries (AWS allows 10)
    assert len(prod_plan.of_type(INSTANCE)) == 3 + 3 * 2 + 4 * 1


#: `aws.rds.Cluster`'s ForceNew arguments (terraform-provider-aws, internal/service/rds/cluster.go).
CLUSTER_FORCE_NEW = frozenset(
    {
        "availabilityZones", "clusterIdentifier", "clusterIdentifierPrefix", "clusterScalabilityType",
        "databaseName", "dbSubnetGroupName", "dbSystemId", "engine", "engineMode", "kmsKeyId",
        "masterUsername", "restoreToPointInTime", "snapshotIdentifier", "sourceRegion",
        "storageEncrypted",
    }
)  # fmt: skip


def test_each_cluster_generation_takes_its_final_snapshot_under_a_name_of_its_own(prod_plan: Plan) -> None:
    clusters = prod_plan.of_type(CLUSTER)
    names = set()
    for cluster in clusters:
        assert_final_snapshot_follows_replacement(
            prod_plan, cluster, cluster.inputs["clusterIdentifier"], CLUSTER_FORCE_NEW
        )
        names.add(cluster.inputs["finalSnapshotIdentifier"])
    assert len(names) == len(clusters)
