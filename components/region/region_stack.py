"""RegionStack: everything meridian runs in one AWS region, under one parent.

    RegionStack  (meridian:region:RegionStack)
    ├── aws.Provider          pinned to the region, with the stack's default tags
    ├── RegionKey             customer-managed KMS key (rotation on) + alias, for the region's data
    ├── Network               VPC, subnets, NAT, endpoints, flow logs
    ├── EksCluster            EKS, nodes, Karpenter, Istio and the API's envelope (its own
    │                         Kubernetes provider)
    │                         (its gateway presents the CDN's origin certificate:
    │                         `install_origin_certificate`)
    ├── PostgresCluster       the region's member of the global database (`attach_postgres`)
    ├── RedisClusters         one replication group per Redis store (`attach_redis`)
    ├── ConfigMap             where the API writes and reads each store (`publish_app_endpoints`)
    ├── event producer        service account, Pod Identity, `meridian-events` ConfigMap and egress
    │                         to the region's Firehose endpoint only (`attach_event_producer`)
    ├── RegionAlarms          alarms over all of the above, an SNS topic, a dashboard (`attach_alarms`)
    └── ClusterTelemetry      AMP workspace + Prometheus agent (or AMP's managed collector), Fluent
                              Bit to CloudWatch Logs (`attach_telemetry`)

Every AWS resource below a RegionStack uses its provider: none can fall back to an ambient default
provider or `AWS_REGION`. The data stores are attached after construction because their members
depend on one another across regions (secondaries join the writer or primary, which replicates its
secret to their keys), so the program first builds every region, then attaches the writer or
primary of each store, then the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..core.lookups import AwsContext
from ..eks.eks_cluster import EksCluster
from ..network.args import FIREHOSE_ENDPOINT, SECRETS_ENDPOINT
from ..network.network import Network
from ..network.subnets import Tier
from ..network.vpc_peering import PeeringHub, VpcPeering
from ..observability.args import AlarmSubscription, AlarmThresholds, TelemetryArgs, TelemetrySettings
from ..observability.cluster_telemetry import SIDECAR_METRICS_PORT, ClusterTelemetry
from ..observability.prometheus_agent import AGENT_NAMESPACE, AGENT_POD_LABELS
from ..observability.region_alarms import CacheWatch, CertificateWatch, RegionAlarms, overview_dashboard_body
from ..postgres.args import PostgresClusterArgs
from ..postgres.postgres_cluster import PostgresCluster
from ..redis.args import MaxmemoryPolicy, Membership, RedisClusterArgs
from ..redis.redis_cluster import RedisCluster, log_delivery_resource_policy
from ..storage.cross_region_backup import copy_vault
from .args import RegionStackArgs
from .region_key import RegionKey

__all__ = ["APP_ENDPOINTS_CONFIG_MAP", "EVENTS_CONFIG_MAP", "RegionStack", "redis_env_prefix"]

#: The ConfigMap, in the API's namespace, that says where the API writes and reads each store.
APP_ENDPOINTS_CONFIG_MAP = "meridian-endpoints"
#: The ConfigMap, in the API's namespace, that names the region's event stream and its region.
EVENTS_CONFIG_MAP = "meridian-events"


def redis_env_prefix(store: str) -> str:
    """The prefix of a Redis store's keys in `meridian-endpoints`: `REDIS_<STORE>`."""
    return f"REDIS_{store.upper().replace('-', '_')}"


class RegionStack(pulumi.ComponentResource):
    """One region of the platform: its provider, KMS key, network and EKS cluster; its data stores
    are attached afterwards (`attach_postgres`, `attach_redis`).

    Args:
        name: the component's name (the stack program uses the region's, e.g. `eu-west-1`); its
            provider is `<name>-aws`, everything else is named `<name_prefix>-<region>-…`.
        args: validated `RegionStackArgs`.
        origin_sources: the only networks the region's ingress NLB admits, on 443: the CDN's
            published ranges (`components.edge.edge_source_ranges`).
        deploy_sources: networks whose `pulumi up` reaches this region's private Kubernetes API,
            on 443: the deploy runner's subnets (the hub region's private subnets).
        deploy_hub: the region the deploy runner runs in, when it is another one (`deploy_hub()`
            of that region): this VPC is peered with it before anything is applied in the cluster.
        opts: resource options (a parent, say); no AWS provider: the region makes its own.

    Attributes:
        provider: the `aws.Provider` pinned to `args.region`; pass it to anything added to the region.
        pinned: resource options with this region as parent and its provider: `opts` for what a
            program adds to the region (the global resources in the anchor region, say).
        key: the region's `RegionKey`.
        network: the region's `Network`.
        eks: the region's `EksCluster` (its `kubernetes_provider` deploys into it).
        vpc_id, kms_key_arn, public_subnet_ids, private_subnet_ids, isolated_subnet_ids: the outputs
            later components consume.
        postgres: the region's `PostgresCluster`, once `attach_postgres` added it (else None).
        redis: store name → the region's `RedisCluster` that `attach_redis` added for it.
        attach_postgres(): add the region's member of a global database (writer or secondary) on
            the isolated subnets, reachable from the API's pods only.
        attach_redis(): add the region's replication group of one Redis store, the same way.
        alarms: the region's `RegionAlarms`, once `attach_alarms` added them (after the stores).
        telemetry: the region's `ClusterTelemetry` (metrics and container logs), once
            `attach_telemetry` added it.
        add_backup_copy_vault(): a vault under this region's key for another region's backup
            copies; returns its ARN (`backup_copy_vault_arn` of a writer elsewhere).
        install_origin_certificate(): have the ingress gateway present the CDN's origin certificate.
        deploy_peering: the `VpcPeering` with the deploy hub's VPC (None in the hub itself).
        deploy_hub(): this region as the hub other regions peer with.
        outputs(): what a stack exports for the region (camelCase).
    """

    def __init__(
        self,
        name: str,
        args: RegionStackArgs,
        *,
        origin_sources: pulumi.Input[Sequence[str]],
        deploy_sources: Sequence[str] = (),
        deploy_hub: PeeringHub | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:region:RegionStack", name, None, opts)
        self.args = args
        resource_prefix = f"{args.name_prefix}-{args.region}"
        self.postgres: PostgresCluster | None = None
        self.redis: dict[str, RedisCluster] = {}
        self.alarms: RegionAlarms | None = None
        self.app_endpoints: dict[str, pulumi.Input[str]] = {}
        self.telemetry: ClusterTelemetry | None = None
        self._egress_ports: set[int] = set()
        self._endpoints_policy: k8s.networking.v1.NetworkPolicy | None = None
        self._log_delivery_policy: aws.cloudwatch.LogResourcePolicy | None = None
        self.provider = aws.Provider(
            f"{name}-aws",
            region=args.region,
            default_tags={"tags": args.tags},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.pinned = pinned = pulumi.ResourceOptions(parent=self, providers=[self.provider])
        self.key = RegionKey(
            resource_prefix,
            region=args.region,
            deletion_window_days=args.kms_deletion_window_days,
            protect=args.protect,
            opts=pinned,
        )
        self.network = Network(resource_prefix, args.network, kms_key_arn=self.key.arn, opts=pinned)
        self.deploy_peering = (
            VpcPeering(
                f"{resource_prefix}-deploy-peering",
                deploy_hub,
                region=args.region,
                vpc_id=self.network.vpc_id,
                cidr=args.network.cidr,
                route_tables={label: table.id for label, table in self.network.private_route_tables.items()},
                opts=pinned,
            )
            if deploy_hub is not None and deploy_hub.region != args.region
            else None
        )
        self.eks = EksCluster(
            resource_prefix,
            args.eks,
            vpc_id=self.network.vpc_id,
            private_subnet_ids=self.network.private_subnet_ids,
            kms_key_arn=self.key.arn,
            origin_sources=origin_sources,
            api_sources=deploy_sources,
            api_path=self.deploy_peering.ready if self.deploy_peering else (),
            opts=pinned,
        )

        self.vpc_id = self.network.vpc_id
        self.kms_key_arn = self.key.arn
        self.public_subnet_ids = self.network.public_subnet_ids
        self.private_subnet_ids = self.network.private_subnet_ids
        self.isolated_subnet_ids = self.network.isolated_subnet_ids
        self.register_outputs(self.outputs())

    def deploy_hub(self) -> PeeringHub:
        """This region as the deploy hub other regions peer with: its side of each peering (the
        connection and its routes) is declared here, in this region."""
        return PeeringHub(
            region=self.args.region,
            cidr=self.args.network.cidr,
            request=self._request_peering,
            route=self._route_private_subnets,
        )

    def _request_peering(
        self, name: str, peer_vpc_id: pulumi.Input[str], peer_region: str
    ) -> aws.ec2.VpcPeeringConnection:
        return aws.ec2.VpcPeeringConnection(
            name,
            vpc_id=self.vpc_id,
            peer_vpc_id=peer_vpc_id,
            peer_region=peer_region,
            tags={"Name": f"{name} ({self.args.region} → {peer_region})"},
            opts=self.pinned,
        )

    def _route_private_subnets(
        self, name: str, connection_id: pulumi.Input[str], destination: str, after: Sequence[pulumi.Resource]
    ) -> list[aws.ec2.Route]:
        return [
            aws.ec2.Route(
                f"{name}-{label}",
                route_table_id=table.id,
                destination_cidr_block=destination,
                vpc_peering_connection_id=connection_id,
                opts=pulumi.ResourceOptions.merge(
                    self.pinned, pulumi.ResourceOptions(depends_on=list(after))
                ),
            )
            for label, table in self.network.private_route_tables.items()
        ]

    def add_backup_copy_vault(self, name: str) -> pulumi.Output[str]:
        """A vault here, under this region's key, for another region's backup copies; its ARN."""
        vault = copy_vault(name, kms_key_arn=self.kms_key_arn, protect=self.args.protect, opts=self.pinned)
        return vault.arn

    def attach_postgres(
        self,
        args: PostgresClusterArgs,
        *,
        writer: PostgresCluster | None = None,
        secret_replicas: dict[str, pulumi.Input[str]] | None = None,
        backup_copy_vault_arn: pulumi.Input[str] | None = None,
    ) -> PostgresCluster:
        """Add the region's PostgreSQL member on the isolated subnets, its proxy admitting the EKS
        nodes, and let the API's pods reach it: a NetworkPolicy egress to those subnets on its port
        only, and `rds-db:connect` through this region's proxy for the API's pod role."""
        if self.postgres is not None:
            raise ValueError(f"{self.args.region} already has its PostgreSQL cluster")
        self._refuse_after_alarms("attach_postgres")
        name = f"{self.args.name_prefix}-{self.args.region}-postgres"
        self.postgres = PostgresCluster(
            name,
            args,
            vpc_id=self.vpc_id,
            subnet_ids=self.isolated_subnet_ids,
            availability_zones=self.network.availability_zones,
            client_security_group_id=self.eks.node_security_group_id,
            kms_key_arn=self.kms_key_arn,
            writer=writer,
            secret_replicas=secret_replicas,
            backup_copy_vault_arn=backup_copy_vault_arn,
            opts=self.pinned,
        )
        self.eks.app.allow_egress(
            "postgres",
            self._isolated_cidrs(),
            args.port,
            destination=f"the region's PostgreSQL proxy and cluster (isolated subnets), port {args.port}",
        )
        self.eks.grant_app(f"{name}-connect", self.postgres.client_policy())
        return self.postgres

    def attach_redis(
        self,
        args: RedisClusterArgs,
        *,
        primary: RedisCluster | None = None,
        secret_replicas: dict[str, pulumi.Input[str]] | None = None,
    ) -> RedisCluster:
        """Add the region's replication group of one Redis store on the isolated subnets, admitting
        the EKS nodes, and let the API's pods use it: a NetworkPolicy egress to those subnets on its
        port, and read access to its credentials secret for the API's pod role."""
        if args.store in self.redis:
            raise ValueError(f"{self.args.region} already has Redis store {args.store}")
        self._refuse_after_alarms(f"attach_redis({args.store!r})")
        prefix = f"{self.args.name_prefix}-{self.args.region}"
        if self._log_delivery_policy is None:
            self._log_delivery_policy = log_delivery_resource_policy(
                f"{prefix}-elasticache-log-delivery", AwsContext.of(self, self.provider), self.pinned
            )
        if args.port not in self._egress_ports:
            self._egress_ports.add(args.port)
            self.eks.app.allow_egress(
                f"redis-{args.port}",
                self._isolated_cidrs(),
                args.port,
                destination=f"the region's Redis replication groups (isolated subnets), port {args.port}",
            )
        name = f"{prefix}-{args.store}"
        cluster = RedisCluster(
            name,
            args,
            vpc_id=self.vpc_id,
            subnet_ids=self.isolated_subnet_ids,
            client_security_group_id=self.eks.node_security_group_id,
            kms_key_arn=self.kms_key_arn,
            primary=primary,
            secret_replicas=secret_replicas,
            log_delivery_policy=self._log_delivery_policy,
            opts=self.pinned,
        )
        self.eks.grant_app(f"{name}-credentials", cluster.client_policy())
        self._reach_endpoint(SECRETS_ENDPOINT)  # the pods read those credentials through it
        self.redis[args.store] = cluster
        return cluster

    def publish_app_endpoints(
        self, *, holds_database_writer: bool, writable_stores: Collection[str] | None = None
    ) -> pulumi.Resource:
        """Tell the API where to write and read each data store of this region: a ConfigMap
        `meridian-endpoints` in its namespace (`envFrom`), and the stack output `appEndpoints`.

        PostgreSQL: `DATABASE_WRITE_HOST` is the proxy's read/write endpoint where the writer is
        (`holds_database_writer`: the stack's write home), else the read-only endpoint, whose
        readers forward writes to the writer; `DATABASE_WRITES` says which (`local`, `forwarded`).
        Redis: `REDIS_<STORE>_HOST` takes writes: the group's own configuration endpoint, for the
        stores in `writable_stores` (default: the regional ones and the global primaries declared
        here; after a failover, the stores whose primary is here now). A region whose copy of a
        global store is read-only gets no write host for it; `REDIS_<STORE>_READ_HOST` is always the
        local copy. Call it after every store is attached."""
        if self.app_endpoints:
            raise ValueError(f"{self.args.region} already published its endpoints")
        data: dict[str, pulumi.Input[str]] = {}
        if self.postgres is not None:
            pg = self.postgres
            data |= {
                "DATABASE_WRITE_HOST": pg.write_endpoint_for_app(holds_writer=holds_database_writer),
                "DATABASE_READ_HOST": pg.proxy_reader_endpoint,
                "DATABASE_PORT": str(pg.args.port),
                "DATABASE_NAME": pg.args.database_name,
                "DATABASE_WRITES": "local" if holds_database_writer else "forwarded",
            }
        for store, cluster in self.redis.items():
            key = redis_env_prefix(store)
            data |= {
                f"{key}_READ_HOST": cluster.configuration_endpoint,
                f"{key}_PORT": cluster.port.apply(str),
                f"{key}_ROLES": ",".join(r.value for r in cluster.args.roles),
                f"{key}_SECRET_ARN": cluster.secret_arn,
            }
            writable = (
                cluster.args.membership is not Membership.SECONDARY
                if writable_stores is None
                else store in writable_stores
            )
            if writable:
                data[f"{key}_HOST"] = cluster.configuration_endpoint
        self.app_endpoints = data
        return self.eks.app.add_config_map(APP_ENDPOINTS_CONFIG_MAP, data)

    def attach_alarms(
        self,
        thresholds: AlarmThresholds,
        subscriptions: Sequence[AlarmSubscription],
        certificates: Sequence[CertificateWatch] = (),
    ) -> RegionAlarms:
        """Add the region's alarms over what it holds now (attach the data stores first), and over
        `certificates` issued outside AWS (imported into ACM here for their expiry), routed to its
        encrypted SNS topic, and its dashboard."""
        if self.alarms is not None:
            raise ValueError(f"{self.args.region} already has its alarms")
        caches = [
            CacheWatch(
                store=name,
                group_id=cluster.args.replication_group_id,
                shards=cluster.args.sizes.shards,
                replicas_per_shard=cluster.args.sizes.replicas_per_shard,
                may_evict=cluster.args.maxmemory_policy is not MaxmemoryPolicy.NOEVICTION,
            )
            for name, cluster in self.redis.items()
        ]
        self.alarms = RegionAlarms(
            f"{self.args.name_prefix}-{self.args.region}",
            region=self.args.region,
            kms_key_arn=self.kms_key_arn,
            thresholds=thresholds,
            subscriptions=subscriptions,
            postgres_cluster_id=self.postgres.args.cluster_identifier if self.postgres else None,
            postgres_instance_ids=self.postgres.instance_identifiers if self.postgres else (),
            caches=caches,
            nat_gateway_ids=[nat.id for nat in self.network.nat_gateways],
            eks_cluster_name=self.eks.cluster_name,
            certificates=certificates,
            opts=self.pinned,
        )
        return self.alarms

    def attach_telemetry(self, settings: TelemetrySettings) -> ClusterTelemetry:
        """Add the region's metrics (an AMP workspace, and a Prometheus agent in the cluster or AMP's
        managed collector in the private subnets) and container logs (Fluent Bit to an encrypted
        log group), let the collector reach the API's sidecars on their metrics port, and CI's
        previews read Fluent Bit's Helm release."""
        if self.telemetry is not None:
            raise ValueError(f"{self.args.region} already has its telemetry")
        prefix = f"{self.args.name_prefix}-{self.args.region}"
        self.telemetry = ClusterTelemetry(
            f"{prefix}-telemetry",
            TelemetryArgs(**settings.model_dump(), name_prefix=prefix, protect=self.args.protect),
            cluster_name=self.args.eks.cluster_name,
            cluster_arn=self.eks.cluster.arn,
            kubernetes_provider=self.eks.kubernetes_provider,
            subnet_ids=self.private_subnet_ids,
            security_group_ids=[self.eks.cluster.vpc_config.cluster_security_group_id],
            kms_key_arn=self.kms_key_arn,
            opts=self.pinned,
        )
        # The sidecars serve the merged metrics on 15020 in plain text and do not intercept that
        # port, so a collector outside the mesh reaches it through STRICT mTLS; the API's namespace
        # denies ingress by default, so it admits the collector there: the agent's pods only, or
        # (a managed collector's ENIs have no pod identity) the whole private tier.
        if settings.collector == "agent":
            self.eks.app.allow_ingress_from_pods(
                "metrics-scraper", AGENT_NAMESPACE, AGENT_POD_LABELS, SIDECAR_METRICS_PORT
            )
        else:
            private = [str(s.cidr) for s in self.args.network.subnet_plan().tier(Tier.PRIVATE)]
            self.eks.app.allow_ingress("metrics-scraper", private, SIDECAR_METRICS_PORT)
        return self.telemetry

    def install_origin_certificate(
        self, certificate: pulumi.Input[str], private_key: pulumi.Input[str], client_ca: pulumi.Input[str]
    ) -> pulumi.Resource:
        """Have the region's ingress gateway present the CDN's origin certificate (Cloudflare
        connects under SSL "strict" and verifies it) and require a client certificate signed by
        `client_ca` (the edge's origin-pull CA); returns the Secret holding them."""
        return self.eks.mesh.install_origin_certificate(certificate, private_key, client_ca)

    def add_overview_dashboard(self, name: str, regions: Sequence[RegionAlarms]) -> aws.cloudwatch.Dashboard:
        """One dashboard, here, of every region's alarm states (a CloudWatch dashboard may show the
        alarms of any region of the account)."""
        return aws.cloudwatch.Dashboard(
            name, dashboard_name=name, dashboard_body=overview_dashboard_body(regions), opts=self.pinned
        )

    def associate_pod_identity(
        self, name: str, *, namespace: str, service_account: str, role_arn: pulumi.Input[str]
    ) -> aws.eks.PodIdentityAssociation:
        """Let this region's pods running as `namespace`/`service_account` assume `role_arn` (EKS
        Pod Identity): a role of a global component, such as the warehouse's producer role."""
        return aws.eks.PodIdentityAssociation(
            name,
            cluster_name=self.eks.cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=role_arn,
            opts=self.pinned,
        )

    @property
    def firehose_endpoint_id(self) -> pulumi.Output[str]:
        """The id of the region's Firehose interface endpoint (the way the API's events leave)."""
        return self._firehose_endpoint().id

    def attach_event_producer(
        self,
        name: str,
        *,
        service_account: str,
        role_arn: pulumi.Input[str],
        stream_name: pulumi.Input[str],
    ) -> aws.eks.PodIdentityAssociation:
        """Let the API's pods running as `service_account` put events into this region's stream:
        the service account, its EKS Pod Identity association with `role_arn` (the stream's
        producer role), a ConfigMap `meridian-events` naming the stream and its region (`envFrom`),
        and the way to the Firehose interface endpoint (`_reach_endpoint`)."""
        self._reach_endpoint(FIREHOSE_ENDPOINT)
        app = self.eks.app
        app.add_service_account(service_account)
        app.add_config_map(
            EVENTS_CONFIG_MAP, {"EVENTS_STREAM_NAME": stream_name, "EVENTS_STREAM_REGION": self.args.region}
        )
        return self.associate_pod_identity(
            name, namespace=self.args.eks.app.namespace, service_account=service_account, role_arn=role_arn
        )

    def _firehose_endpoint(self) -> aws.ec2.VpcEndpoint:
        return self._interface_endpoint(FIREHOSE_ENDPOINT)

    def _interface_endpoint(self, service: str) -> aws.ec2.VpcEndpoint:
        endpoint = self.network.interface_endpoints.get(service)
        if endpoint is None:
            raise ValueError(
                f"{self.args.region} has no {service} interface endpoint; add it to "
                "meridian:network.interfaceEndpoints"
            )
        return endpoint

    def _reach_endpoint(self, service: str) -> None:
        """Let the API's pods reach AWS's `service` through its interface endpoint, the only way
        out of the VPC they have (a region without it is refused before anything is declared): the
        endpoint's private DNS name resolves to its interfaces in the private subnets, so one
        NetworkPolicy, `allow-interface-endpoints`, opens 443 there, made with the first."""
        self._interface_endpoint(service)
        if self._endpoints_policy is not None:
            return
        private = [str(s.cidr) for s in self.args.network.subnet_plan().tier(Tier.PRIVATE)]
        self._endpoints_policy = self.eks.app.allow_egress(
            "interface-endpoints",
            private,
            443,
            destination=(
                f"the {self.args.region} AWS interface endpoints (Firehose, Secrets Manager), whose "
                "interfaces are in the private subnets, port 443"
            ),
        )

    def _refuse_after_alarms(self, attach: str) -> None:
        """The alarms watch what the region holds when they are attached: a store attached later
        would run unwatched, so it is refused rather than silently left out."""
        if self.alarms is not None:
            raise ValueError(
                f"{self.args.region}: {attach} after attach_alarms; attach every data store first, "
                "then the alarms (they watch what the region holds when they are attached)"
            )

    def _isolated_cidrs(self) -> list[str]:
        """The isolated subnets' ranges, where the data stores live."""
        return [str(s.cidr) for s in self.args.network.subnet_plan().tier(Tier.ISOLATED)]

    def outputs(self) -> dict[str, object]:
        """What the stack exports for this region (camelCase, as Pulumi stack outputs are)."""
        return {
            "region": self.args.region,
            "role": self.args.role.value,
            "vpcId": self.vpc_id,
            "vpcCidr": self.args.network.cidr,
            "availabilityZones": self.network.availability_zones,
            "publicSubnetIds": self.public_subnet_ids,
            "privateSubnetIds": self.private_subnet_ids,
            "isolatedSubnetIds": self.isolated_subnet_ids,
            "kmsKeyArn": self.kms_key_arn,
            "clusterName": self.eks.cluster_name,
            "clusterEndpoint": self.eks.endpoint,
            "oidcIssuer": self.eks.oidc_issuer,
            "nodeSecurityGroupId": self.eks.node_security_group_id,
            "ingressHostname": self.eks.ingress_hostname,
            **({"postgres": self.postgres.outputs()} if self.postgres else {}),
            **({"redis": {n: c.outputs() for n, c in self.redis.items()}} if self.redis else {}),
            **({"appEndpoints": self.app_endpoints} if self.app_endpoints else {}),
        }
