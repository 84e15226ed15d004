"""Pulumi mocks that stand in for the engine and the AWS provider when no cloud is at hand.

`PlanMocks` answers what the program asks AWS (availability zones, caller identity, partition,
region) with the shapes the real data sources return, and gives every resource a realistic id and
ARN (Grafana's resources: Grafana's ids, a token in Grafana's format). `PlanMonitor` records each
registration (type, name, parent, provider, inputs, protect, replacement trigger) so that the
offline plan and the tests can read the whole resource tree after the program ran.

An invoke the mocks do not know, or one made without an explicit provider, raises: a program that
starts asking AWS something new must get a realistic answer here, not an empty one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.resource import _struct_value_to_python  # the SDK's reader of a protobuf Value
from pulumi.runtime.rpc import (
    deserialize_properties,
    deserialize_property,
    is_rpc_secret,
    unwrap_rpc_secret,
    wrap_rpc_secret,
)

__all__ = [
    "CLOUDFLARE_IPV4",
    "CLOUDFLARE_IPV6",
    "MOCK_ACCOUNT_ID",
    "MOCK_ZONE_NAME",
    "PlanMocks",
    "PlanMonitor",
    "RecordedResource",
    "is_provider_type",
    "mock_grafana_token",
    "mock_password",
    "provider_urn",
]

#: AWS's documentation example account.
MOCK_ACCOUNT_ID = "123456789012"

#: Cloudflare's published edge ranges (https://www.cloudflare.com/ips/, unchanged since 2023): what
#: `cloudflare.get_ip_ranges` answers. A real `pulumi up` reads them afresh each time.
CLOUDFLARE_IPV4 = (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
)  # fmt: skip
CLOUDFLARE_IPV6 = (
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
)  # fmt: skip
#: The zone `getZone` names (the zone of the stacks' `meridian:domain`).
MOCK_ZONE_NAME = "example.com"

#: AZ name suffix → AZ id number, where a region is not simply a→1, b→2, c→3. Names map to ids
#: differently in each account (in regions opened before 2013); these are one real-looking
#: account's mapping. `PlanMocks(zones=...)` stands in for another account, or for this one after
#: AWS opened a new zone.
_ZONES: dict[str, dict[str, int]] = {
    "us-east-1": {"a": 6, "b": 1, "c": 3, "d": 4, "e": 2, "f": 5},  # us-east-1c is use1-az3: no EKS
    "us-west-1": {"a": 1, "c": 3},  # most accounts see two AZs here
    "us-west-2": {"a": 2, "b": 1, "c": 3, "d": 4},
    "ap-northeast-1": {"a": 4, "c": 1, "d": 2},
    "ap-northeast-2": {"a": 1, "b": 2, "c": 3, "d": 4},
    "ca-central-1": {"a": 1, "b": 2, "d": 4},
}


def _zone_id_prefix(region: str) -> str:
    """Region → AZ-id prefix, as `zone_ids` spell them (use1-az1, euw1-az2, apne1-az4)."""
    *area, direction, number = region.split("-")
    short = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
             "northeast": "ne", "southeast": "se", "northwest": "nw", "southwest": "sw"}  # fmt: skip
    return f"{''.join(area)}{short.get(direction, direction[:2])}{number}"


#: Id prefixes of EC2 resources, as AWS formats them.
_ID_PREFIX: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/route:Route": "r-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx-",
}


#: Resources whose AWS id is the name given to them (an RDS identifier, a proxy or vault name).
_ID_FROM_INPUT: dict[str, str] = {
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": "vpcPeeringConnectionId",
    "aws:rds/globalCluster:GlobalCluster": "globalClusterIdentifier",
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "identifier",
    "aws:rds/subnetGroup:SubnetGroup": "name",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "name",
    "aws:rds/proxy:Proxy": "name",
    "aws:backup/vault:Vault": "name",
    "aws:elasticache/replicationGroup:ReplicationGroup": "replicationGroupId",
    "aws:elasticache/subnetGroup:SubnetGroup": "name",
    "aws:elasticache/parameterGroup:ParameterGroup": "name",
    "aws:elasticache/user:User": "userId",
    "aws:elasticache/userGroup:UserGroup": "userGroupId",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:cloudtrail/trail:Trail": "name",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "name",
}


_GRAFANA_SERVICE_ACCOUNT = "aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount"
_GRAFANA_TOKEN = "aws:grafana/workspaceServiceAccountToken:WorkspaceServiceAccountToken"


#: Write-only arguments, per type: sent to AWS, never stored.
_WRITE_ONLY: dict[str, set[str]] = {
    "aws:rds/cluster:Cluster": {"masterPasswordWo"},
    "aws:secretsmanager/secretVersion:SecretVersion": {"secretStringWo"},
    "aws:elasticache/user:User": {"passwordsWo"},
}


def _kubeconfig_region(inputs: dict[str, Any]) -> str:
    """The region in a kubeconfig's `aws eks get-token --region R` (Kubernetes providers)."""
    args = json.loads(inputs.get("kubeconfig") or "{}").get("users", [{}])[0]
    args = args.get("user", {}).get("exec", {}).get("args", [])
    return args[args.index("--region") + 1] if "--region" in args else ""


def _physical_name(inputs: dict[str, Any], name: str) -> str:
    """The name a resource gets in AWS: the one given, or Pulumi's auto-name (logical name + suffix)."""
    return inputs.get("name") or f"{name}-{_hex(name, 7)}"


def mock_password(name: str, length: int) -> str:
    """The password the mocked `random.RandomPassword` *name* generates (tests look for it)."""
    return ("Aa1!" + _hex(name, 64) * 2)[:length]


#: When every mocked Grafana token is created (a plan is reproducible: no clock is read).
MOCK_TOKEN_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def mock_grafana_token(name: str) -> str:
    """The key the mocked `aws.grafana.WorkspaceServiceAccountToken` *name* gets, in Grafana's
    service-account token format (`glsa_`, 32 characters, `_`, an 8-hex checksum)."""
    return f"glsa_{_hex(name, 32)}_{_hex(name + '/checksum', 8)}"


def provider_urn(reference: str | None) -> str | None:
    """`urn::id` provider reference → the provider's URN (None when no provider was given)."""
    return reference.rsplit("::", 1)[0] if reference else None


def _pem(label: str, seed: str) -> str:
    body = base64.b64encode(hashlib.sha256(seed.encode()).digest() * 2).decode()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def mock_prefix_list_id(name: str) -> str:
    """The id the mocks give the AWS-managed prefix list `name` (`pl-` and 8 hex digits)."""
    return f"pl-{_hex(name, 8)}"


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def is_provider_type(type_token: str) -> bool:
    """Whether *type_token* is a provider's (`pulumi:providers:aws`): not a resource a plan counts."""
    return type_token.startswith("pulumi:providers:")


class PlanMocks(Mocks):
    """Realistic answers for the AWS calls and resources meridian declares."""

    def __init__(
        self,
        account_id: str = MOCK_ACCOUNT_ID,
        *,
        zones: Mapping[str, Mapping[str, int]] | None = None,
        zone_states: Mapping[str, str] | None = None,
    ) -> None:
        """*zones*: region → AZ name suffix → AZ id number, in place of `_ZONES`' for those
        regions; *zone_states*: AZ id → the state AWS reports for it (`impaired`, `unavailable`,
        `information`, `constrained`), every other AZ being `available` (an AZ event)."""
        self.account_id = account_id
        self._zones = {**_ZONES, **(zones or {})}
        self._zone_states = dict(zone_states or {})
        #: the name a resource being registered had before (its alias), in the registering thread
        self.former = threading.local()
        self._provider_regions: dict[str, str] = {}  # provider id → region
        self._lock = threading.Lock()

    def region_of(self, reference: str | None) -> str | None:
        if not reference:
            return None
        return self._provider_regions.get(reference.rsplit("::", 1)[-1])

    # -- resources ----------------------------------------------------------------------------

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        inputs = {k: unwrap_rpc_secret(v) for k, v in args.inputs.items()}
        if is_provider_type(args.typ):
            provider_id = f"{args.name}-{_hex(args.name, 8)}"
            with self._lock:
                self._provider_regions[provider_id] = inputs.get("region") or _kubeconfig_region(inputs)
            return provider_id, args.inputs
        if not args.custom and not args.resource_id:  # a component (reads carry the id they read)
            return None, args.inputs
        region = self.region_of(args.provider) or ""
        if args.typ.startswith("kubernetes:"):
            return self._kubernetes(args, inputs, region)
        if args.typ.startswith(("cloudflare:", "tls:")):
            return self._edge(args, inputs)
        if args.typ.startswith("grafana:"):
            return self._grafana(args, inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            # Deterministic (a plan is reproducible) and of the requested length; a secret, as the
            # provider marks it.
            value = mock_password(args.name, int(inputs.get("length") or 16))
            return _hex(args.name, 8), dict(args.inputs) | {"result": wrap_rpc_secret(value)}
        if args.typ == "random:index/randomId:RandomId":
            # Deterministic, and a function of the keepers as the provider's is of its generation:
            # new keepers, a new value (the provider replaces the id when they change).
            seed = f"{args.name}/{json.dumps(inputs.get('keepers') or {}, sort_keys=True)}"
            digits = _hex(seed, 2 * int(inputs.get("byteLength") or 8))
            return _hex(seed, 8), dict(args.inputs) | {"hex": digits, "dec": str(int(digits, 16))}
        # A renamed resource with an alias is the same resource to AWS: it keeps its id and ARN.
        name = getattr(self.former, "name", None) or args.name
        resource_id = inputs.get(_ID_FROM_INPUT.get(args.typ, ""), "") or (
            _ID_PREFIX.get(args.typ, "") + _hex(f"{args.typ}/{name}")
        )
        state = dict(args.inputs) | self._computed(args.typ, name, inputs, region, resource_id)
        if args.typ == "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup":
            resource_id = state["globalReplicationGroupId"]  # named by AWS, from the suffix
        elif args.typ == _GRAFANA_SERVICE_ACCOUNT:  # `workspace,service account`, as the provider's
            resource_id = f"{inputs.get('workspaceId')},{state['serviceAccountId']}"
        elif args.typ == _GRAFANA_TOKEN:
            resource_id = (
                f"{inputs.get('workspaceId')},{inputs.get('serviceAccountId')},"
                f"{state['serviceAccountTokenId']}"
            )
        if args.typ in _WRITE_ONLY:  # write-only arguments never come back in state
            state = {k: v for k, v in state.items() if k not in _WRITE_ONLY[args.typ]}
        return resource_id, state

    def _kubernetes(self, args: MockResourceArgs, inputs: dict[str, Any], region: str) -> tuple[str, dict]:
        """Kubernetes objects are named `namespace/name`; a read gateway Service has its NLB."""
        metadata = inputs.get("metadata") or {}
        name = metadata.get("name") or inputs.get("name") or args.name
        resource_id = args.resource_id or "/".join(filter(None, [metadata.get("namespace"), name]))
        state = dict(args.inputs)
        if args.typ == "kubernetes:core/v1:Service" and args.resource_id:
            namespace, _, service = args.resource_id.partition("/")
            state = {
                "metadata": {"name": service, "namespace": namespace},
                "spec": {"type": "LoadBalancer"},
                "status": {"loadBalancer": {"ingress": [
                    {"hostname": f"a{_hex(args.resource_id + region, 31)}-{_hex(region, 16)}"
                                 f".elb.{region}.amazonaws.com"}]}},
            }  # fmt: skip
        return resource_id, state

    def _edge(self, args: MockResourceArgs, inputs: dict[str, Any]) -> tuple[str, dict]:
        """Cloudflare objects get 32-hex ids (a zone setting is named by its setting id); a TLS key
        and CSR, and an Origin CA certificate, get PEM-shaped values (the key a secret)."""
        state = dict(args.inputs)
        resource_id = _hex(f"{args.typ}/{args.name}", 32)
        if args.typ == "cloudflare:index/zoneSetting:ZoneSetting":
            resource_id = inputs["settingId"]
        elif args.typ == "tls:index/privateKey:PrivateKey":
            state |= {
                "privateKeyPem": wrap_rpc_secret(_pem("EC PRIVATE KEY", args.name)),
                "publicKeyPem": _pem("PUBLIC KEY", args.name),
            }
        elif args.typ == "tls:index/certRequest:CertRequest":
            state["certRequestPem"] = _pem("CERTIFICATE REQUEST", args.name)
        elif args.typ in (
            "tls:index/selfSignedCert:SelfSignedCert",
            "tls:index/locallySignedCert:LocallySignedCert",
        ):
            hours = int(inputs.get("validityPeriodHours") or 0)
            state |= {"certPem": _pem("CERTIFICATE", args.name), "readyForRenewal": False,
                      "validityStartTime": "2026-12-03T00:00:00Z",
                      "validityEndTime": f"{2026 + hours // 8760}-12-03T00:00:00Z"}  # fmt: skip
        elif (
            args.typ
            == "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"
        ):
            state |= {"status": "active", "certificateId": resource_id}
        elif args.typ == "cloudflare:index/originCaCertificate:OriginCaCertificate":
            days = int(inputs.get("requestedValidity") or 5475)
            state |= {"certificate": _pem("CERTIFICATE", args.name),
                      "expiresOn": f"{2026 + days // 365}-11-25 00:00:00 +0000 UTC"}  # fmt: skip
        elif args.typ == "cloudflare:index/loadBalancer:LoadBalancer":
            state["zoneName"] = ".".join(str(inputs.get("name", "")).split(".")[-3:])
        return resource_id, state

    def _grafana(self, args: MockResourceArgs, inputs: dict[str, Any]) -> tuple[str, dict]:
        """Objects inside Grafana (organization 1, as in an AMG workspace): a data source's id is
        `<org>:<uid>`, as the Grafana provider's, and its uid the one given (or Grafana's own)."""
        state = dict(args.inputs)
        if args.typ == "grafana:oss/dataSource:DataSource":
            uid = inputs.get("uid") or _hex(args.name, 14)
            return f"1:{uid}", state | {"uid": uid, "orgId": "1"}
        return f"1:{_hex(f'{args.typ}/{args.name}', 14)}", state | {"orgId": "1"}

    def _computed(
        self, typ: str, name: str, inputs: dict[str, Any], region: str, resource_id: str
    ) -> dict[str, Any]:
        account = self.account_id
        _, module, kind = typ.split(":", 2)
        service = module.split("/")[0]
        if typ == "aws:kms/key:Key":
            key_id = f"{_hex(name, 8)}-{_hex(name + '1', 4)}-4{_hex(name + '2', 3)}-8{_hex(name + '3', 3)}-{_hex(name + '4', 12)}"  # noqa: E501
            return {"keyId": key_id, "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            return {"arn": f"arn:aws:logs:{region}:{account}:log-group:{inputs.get('name', name)}"}
        if typ == "aws:iam/role:Role":
            role_name = _physical_name(inputs, name)
            return {"name": role_name, "arn": f"arn:aws:iam::{account}:role/{role_name}",
                    "uniqueId": f"AROA{_hex(name, 17).upper()}"}  # fmt: skip
        if typ == "aws:kms/alias:Alias":
            return {"arn": f"arn:aws:kms:{region}:{account}:{inputs.get('name', name)}"}
        if typ == "aws:eks/cluster:Cluster":
            cluster = inputs.get("name", name)
            return {
                "arn": f"arn:aws:eks:{region}:{account}:cluster/{cluster}",
                "endpoint": f"https://{_hex(cluster, 32).upper()}.gr7.{region}.eks.amazonaws.com",
                "certificateAuthority": {"data": base64.b64encode(f"CA of {cluster}".encode()).decode()},
                "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/"
                                                     f"{_hex(cluster, 32).upper()}"}]}],
                "vpcConfig": {**inputs.get("vpcConfig", {}),
                              "clusterSecurityGroupId": f"sg-{_hex(cluster + '/cluster-sg')}",
                              "vpcId": f"vpc-{_hex(cluster)}"},
                "status": "ACTIVE",
            }  # fmt: skip
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"arn": f"arn:aws:ec2:{region}:{account}:launch-template/{resource_id}",
                    "latestVersion": 1, "defaultVersion": 1}  # fmt: skip
        if typ == "aws:sqs/queue:Queue":
            queue = _physical_name(inputs, name)
            return {"name": queue, "arn": f"arn:aws:sqs:{region}:{account}:{queue}",
                    "url": f"https://sqs.{region}.amazonaws.com/{account}/{queue}"}  # fmt: skip
        if typ == "aws:cloudwatch/eventRule:EventRule":
            rule = _physical_name(inputs, name)
            return {"name": rule, "arn": f"arn:aws:events:{region}:{account}:rule/{rule}"}
        if service in ("amp", "grafana"):
            return self._observability(typ, name, inputs, region, resource_id)
        if typ == "aws:s3/bucket:Bucket":  # S3 ARNs name neither region nor account
            return {"arn": f"arn:aws:s3:::{resource_id}", "bucket": resource_id}
        if typ == "aws:cloudtrail/trail:Trail":
            return {"arn": f"arn:aws:cloudtrail:{region}:{account}:trail/{resource_id}"}
        if typ == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
            return {"arn": f"arn:aws:firehose:{region}:{account}:deliverystream/{resource_id}"}
        if typ == "aws:redshiftserverless/workgroup:Workgroup":
            host = f"{inputs.get('workgroupName', name)}.{account}.{region}.redshift-serverless.amazonaws.com"
            return {
                "arn": f"arn:aws:redshift-serverless:{region}:{account}:workgroup/{resource_id}",
                "endpoints": [{"address": host, "port": 5439}],
            }
        if service == "elasticache":
            return self._elasticache(typ, inputs, region, resource_id)
        if service in ("rds", "secretsmanager", "backup"):
            data_store = self._data_store(typ, name, inputs, region, resource_id)
            if data_store is not None:
                return data_store
        if service == "ec2":
            resource = kind.split(":")[0]
            return {"arn": f"arn:aws:ec2:{region}:{account}:{resource.lower()}/{resource_id}",
                    "ownerId": account}  # fmt: skip
        return {"arn": f"arn:aws:{service}:{region}:{account}:{name}"}

    def _observability(
        self, typ: str, name: str, inputs: dict[str, Any], region: str, resource_id: str
    ) -> dict[str, Any]:
        """AMP workspaces and scrapers, Grafana workspaces: their ARNs and endpoints in AWS's formats;
        a Grafana service account's numeric id, its token's key (a secret) and expiry."""
        account = self.account_id
        suffix = f"{resource_id[:8]}-{resource_id[8:12]}-4{resource_id[12:15]}-8abc-0123456789ab"
        if typ == "aws:amp/workspace:Workspace":
            return {
                "arn": f"arn:aws:aps:{region}:{account}:workspace/ws-{suffix}",
                "prometheusEndpoint": f"https://aps-workspaces.{region}.amazonaws.com/workspaces/ws-{suffix}/",
            }
        if typ == "aws:amp/scraper:Scraper":
            return {
                "arn": f"arn:aws:aps:{region}:{account}:scraper/s-{suffix}",
                "roleArn": f"arn:aws:iam::{account}:role/aws-service-role/scraper.aps.amazonaws.com/"
                f"AWSServiceRoleForAmazonPrometheusScraper_{suffix[:15]}",
            }
        if typ == "aws:grafana/workspace:Workspace":
            return {
                "arn": f"arn:aws:grafana:{region}:{account}:/workspaces/g-{resource_id[:10]}",
                "endpoint": f"g-{resource_id[:10]}.grafana-workspace.{region}.amazonaws.com",
            }
        if typ == _GRAFANA_SERVICE_ACCOUNT:
            return {"serviceAccountId": str(2 + int(_hex(name, 4), 16) % 1000)}
        if typ == _GRAFANA_TOKEN:
            expires = MOCK_TOKEN_CREATED + timedelta(seconds=int(inputs.get("secondsToLive") or 0))
            return {
                "key": wrap_rpc_secret(mock_grafana_token(name)),
                "serviceAccountTokenId": str(1 + int(_hex(name, 4), 16) % 1000),
                "createdAt": MOCK_TOKEN_CREATED.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        return {"arn": f"arn:aws:{typ.split(':')[1].split('/')[0]}:{region}:{account}:{resource_id}"}

    def _data_store(
        self, typ: str, name: str, inputs: dict[str, Any], region: str, resource_id: str
    ) -> dict[str, Any] | None:
        """RDS, Secrets Manager and AWS Backup attributes in the formats AWS returns them."""
        account = self.account_id
        rds_host = f"{_hex(account + region, 12)}.{region}.rds.amazonaws.com"
        if typ == "aws:rds/globalCluster:GlobalCluster":
            return {"arn": f"arn:aws:rds::{account}:global-cluster:{resource_id}",
                    "endpoint": f"{resource_id}.global-{_hex(resource_id, 10)}.global.rds.amazonaws.com",
                    "globalClusterResourceId": f"cluster-{_hex(resource_id, 26).upper()}",
                    "engineVersionActual": inputs.get("engineVersion", "")}  # fmt: skip
        if typ == "aws:rds/cluster:Cluster":
            return {"arn": f"arn:aws:rds:{region}:{account}:cluster:{resource_id}",
                    "endpoint": f"{resource_id}.cluster-{rds_host}",
                    "readerEndpoint": f"{resource_id}.cluster-ro-{rds_host}",
                    "clusterResourceId": f"cluster-{_hex(resource_id, 26).upper()}",
                    "port": inputs.get("port", 5432), "hostedZoneId": "Z2R2ITUGPM61AM"}  # fmt: skip
        if typ == "aws:rds/clusterInstance:ClusterInstance":
            return {"arn": f"arn:aws:rds:{region}:{account}:db:{resource_id}",
                    "endpoint": f"{resource_id}.{rds_host}", "writer": resource_id.endswith("-1"),
                    "dbiResourceId": f"db-{_hex(resource_id, 26).upper()}"}  # fmt: skip
        if typ == "aws:rds/proxy:Proxy":
            return {"arn": f"arn:aws:rds:{region}:{account}:db-proxy:prx-{_hex(resource_id)}",
                    "endpoint": f"{resource_id}.proxy-{rds_host}"}  # fmt: skip
        if typ == "aws:rds/proxyEndpoint:ProxyEndpoint":
            endpoint = inputs.get("dbProxyEndpointName", name)
            arn = f"arn:aws:rds:{region}:{account}:db-proxy-endpoint:prx-endpoint-{_hex(endpoint)}"
            return {"arn": arn, "endpoint": f"{endpoint}.endpoint.proxy-{rds_host}"}
        if typ == "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup":
            arn = f"arn:aws:rds:{region}:{account}:target-group:prx-tg-{_hex(resource_id)}"
            return {"name": "default", "arn": arn}
        if typ in ("aws:rds/subnetGroup:SubnetGroup", "aws:rds/clusterParameterGroup:ClusterParameterGroup"):
            kind = "subgrp" if typ.endswith("SubnetGroup") else "cluster-pg"
            return {"name": resource_id, "arn": f"arn:aws:rds:{region}:{account}:{kind}:{resource_id}"}
        if typ == "aws:secretsmanager/secret:Secret":
            secret = _physical_name(inputs, name)
            arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}-{_hex(secret, 6)}"
            return {"arn": arn, "name": secret}
        if typ == "aws:backup/vault:Vault":
            return {
                "name": resource_id,
                "arn": f"arn:aws:backup:{region}:{account}:backup-vault:{resource_id}",
            }
        if typ == "aws:backup/plan:Plan":
            return {"arn": f"arn:aws:backup:{region}:{account}:backup-plan:{resource_id}", "version": "1"}
        return None

    def _elasticache(self, typ: str, inputs: dict[str, Any], region: str, resource_id: str) -> dict[str, Any]:
        """ElastiCache attributes as AWS returns them: ARNs by kind, a cluster-mode group's
        configuration endpoint, a global datastore's id (a region-specific prefix AWS adds to the
        suffix given)."""
        arn = f"arn:aws:elasticache:{region}:{self.account_id}"
        if typ == "aws:elasticache/replicationGroup:ReplicationGroup":
            zone = _zone_id_prefix(region)
            host = f"{resource_id}.{_hex(self.account_id + region, 6)}.{zone}.cache.amazonaws.com"
            shards = int(inputs.get("numNodeGroups") or 1)
            nodes = shards * (1 + int(inputs.get("replicasPerNodeGroup") or 0))
            return {
                "arn": f"{arn}:replicationgroup:{resource_id}",
                "configurationEndpointAddress": f"clustercfg.{host}",
                "port": inputs.get("port", 6379),
                "engineVersionActual": f"{inputs.get('engineVersion', '8.0')}.1",
                "memberClusters": [f"{resource_id}-{s + 1:04d}-{n + 1:03d}" for s in range(shards)
                                   for n in range(nodes // shards)],
                "clusterEnabled": True,
            }  # fmt: skip
        if typ == "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup":
            prefix = "".join(chr(ord("a") + int(c, 16) % 26) for c in _hex(region, 5))
            global_id = f"{prefix}-{inputs['globalReplicationGroupIdSuffix']}"
            return {"globalReplicationGroupId": global_id,
                    "arn": f"arn:aws:elasticache::{self.account_id}:globalreplicationgroup:{global_id}",
                    "clusterEnabled": True, "transitEncryptionEnabled": True,
                    "atRestEncryptionEnabled": True}  # fmt: skip
        kind = {"user": "user", "userGroup": "usergroup", "subnetGroup": "subnetgroup",
                "parameterGroup": "parametergroup"}[typ.split("/")[1].split(":")[0]]  # fmt: skip
        return {"arn": f"{arn}:{kind}:{resource_id}"}

    # -- data sources -----------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        if args.token.startswith("cloudflare:"):
            return self._cloudflare_call(args), []
        region = self.region_of(args.provider)
        if not region:
            raise RuntimeError(
                f"{args.token} was invoked without an explicit, region-pinned provider; pass "
                "pulumi.InvokeOptions(parent=...) or provider=... so the call cannot use ambient "
                "credentials or AWS_REGION"
            )
        handler = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": self._availability_zones,
            "aws:index/getCallerIdentity:getCallerIdentity": self._caller_identity,
            "aws:index/getPartition:getPartition": self._partition,
            "aws:index/getRegion:getRegion": self._region,
            "aws:ec2/getPrefixList:getPrefixList": self._prefix_list,
        }.get(args.token)
        if handler is None:
            raise NotImplementedError(
                f"no mock answer for {args.token}; add a realistic one to infra/plan/mocks.py"
            )
        return handler(region, args.args), []

    def _cloudflare_call(self, args: MockCallArgs) -> dict:
        """Cloudflare lookups, through the edge's provider (never an ambient one): the published
        ranges (as api.cloudflare.com/client/v4/ips answered in December 2026) and a zone's name."""
        if not args.provider:
            raise RuntimeError(f"{args.token} was invoked without an explicit Cloudflare provider")
        if args.token == "cloudflare:index/getIpRanges:getIpRanges":
            return {"id": "cloudflare-ips", "ipv4Cidrs": list(CLOUDFLARE_IPV4),
                    "ipv6Cidrs": list(CLOUDFLARE_IPV6), "etag": _hex("ips", 32)}  # fmt: skip
        if args.token == "cloudflare:index/getZone:getZone":
            zone = args.args.get("zoneId") or ""
            return {"id": zone, "zoneId": zone, "name": MOCK_ZONE_NAME, "status": "active"}
        raise NotImplementedError(
            f"no mock answer for {args.token}; add a realistic one to infra/plan/mocks.py"
        )

    def _prefix_list(self, region: str, args: dict) -> dict:
        """An AWS-managed prefix list by name (`com.amazonaws.<region>.s3`): its `pl-` id, stable
        per name, and a documentation range standing in for the service's addresses."""
        name = args.get("name") or ""
        if not name.startswith("com.amazonaws."):
            raise NotImplementedError(f"no mock prefix list named {name!r}; look AWS's up by name")
        return {"id": mock_prefix_list_id(name), "prefixListId": mock_prefix_list_id(name), "name": name,
                "cidrBlocks": ["198.51.100.0/24"]}  # fmt: skip

    def _availability_zones(self, region: str, args: dict) -> dict:
        """The region's AZs as the provider lists them: sorted by name, names and ids paired, only
        those in `state` when it is given (by default every AZ, whatever its state)."""
        prefix = _zone_id_prefix(region)
        excluded = set(args.get("excludeZoneIds") or ())
        state = args.get("state")
        zones = sorted(
            (f"{region}{letter}", f"{prefix}-az{number}")
            for letter, number in self._zones.get(region, {"a": 1, "b": 2, "c": 3}).items()
            if f"{prefix}-az{number}" not in excluded
            and (state is None or self._zone_states.get(f"{prefix}-az{number}", "available") == state)
        )
        answer = {
            "id": region,
            "names": [name for name, _ in zones],
            "zoneIds": [zone_id for _, zone_id in zones],
            "groupNames": [region] * len(zones),
        }
        return answer | ({"state": state} if state is not None else {})

    def _caller_identity(self, _region: str, _: dict) -> dict:
        return {
            "id": self.account_id,
            "accountId": self.account_id,
            "arn": f"arn:aws:sts::{self.account_id}:assumed-role/meridian-deployer/pulumi",
            "userId": "AROAEXAMPLEDEPLOYER:pulumi",
        }

    def _partition(self, _region: str, _: dict) -> dict:
        return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws"}  # fmt: skip

    def _region(self, region: str, _: dict) -> dict:
        return {"id": region, "region": region, "name": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": f"AWS region {region}"}  # fmt: skip


@dataclass
class RecordedResource:
    """One registration as the engine saw it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None  # the provider's URN, or None
    inputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    protect: bool = False
    dependencies: list[str] = field(default_factory=list)  # URNs of explicit and input dependencies
    #: input name → URNs of the resources its value came from (how a subnet group knows its subnets)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)  # properties `pulumi up` leaves alone
    #: the `replacement_trigger` option: a change of it replaces the resource (None: not set)
    replacement_trigger: Any = None
    #: URNs the resource had before (its `aliases`): `pulumi up` moves the resource, not replaces it
    aliases: list[str] = field(default_factory=list)


def _mask_secrets(value: Any) -> Any:
    if is_rpc_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: _mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secrets(v) for v in value]
    return value


def _alias_urn(urn: str, alias: Any) -> str:
    """The URN an alias (`alias_pb2.Alias`) names: given whole, or the resource's own URN with the
    alias spec's name and type in place of its own."""
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    if spec.stack or spec.project or spec.parentUrn or spec.noParent:
        raise NotImplementedError(
            "an alias to another stack, project or parent; teach infra/plan/mocks.py its URN"
        )
    qualified, name = urn.rsplit("::", 1)
    head, _, type_token = qualified.rpartition("::")
    chain, dollar, _ = type_token.rpartition("$")
    return f"{head}::{chain}{dollar}{spec.type or type_token.rpartition('$')[2]}::{spec.name or name}"


class PlanMonitor(MockMonitor):
    """A mock resource monitor that keeps a record of every resource the program registers."""

    def __init__(self, mocks: PlanMocks, on_register: Callable[[int], None] | None = None) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self._on_register = on_register  # told the count after each registration (a progress line)

    def RegisterResource(self, request: Any) -> Any:
        mocks = self.mocks
        assert isinstance(mocks, PlanMocks)
        mocks.former.name = next((a.spec.name for a in request.aliases if a.spec.name), None)
        try:
            response = super().RegisterResource(request)
        finally:
            mocks.former.name = None
        if request.type != "pulumi:pulumi:Stack":
            self.recorded.append(
                RecordedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    custom=bool(request.custom),
                    provider=provider_urn(request.provider),
                    inputs=_mask_secrets(deserialize_properties(request.object)),
                    id=response.id or None,
                    protect=bool(request.protect),
                    dependencies=list(request.dependencies),
                    property_dependencies={
                        key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                    ignore_changes=list(request.ignoreChanges),
                    aliases=[_alias_urn(response.urn, alias) for alias in request.aliases],
                    replacement_trigger=(
                        _mask_secrets(
                            deserialize_property(_struct_value_to_python(request.replacement_trigger))
                        )
                        if request.HasField("replacement_trigger")
                        else None
                    ),
                )
            )
            if self._on_register is not None:
                self._on_register(len(self.recorded))
        return response
