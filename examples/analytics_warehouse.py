"""AnalyticsWarehouse: an events lake in eu-central-1 that Athena queries, fed from two regions.

The team's own `aws.Provider` pins the warehouse to eu-central-1, and its own KMS key (`RegionKey`)
encrypts the lake, the query results, the stream and its delivery log. The `events` table has the
default columns and one of the team's own. The producers are pods of the team's EKS clusters, which
their own stacks made: `allow_producer` associates the producer role with a service account of
each cluster, under the provider of the cluster's region (the role trusts only this account's
clusters named `<name_prefix>-…`); the pods in us-east-1 put their events to this region's stream.

Athena only, to keep it small: for Redshift Serverless too, add `redshift=RedshiftSettings()` to
the args and pass `vpc_id`, `subnet_ids` (private) and `client_security_group_id` (the one group
admitted on port 5439), e.g. a `Network`'s and the cluster's node security group.

Run it with `pulumi up` in a Python project whose Pulumi.yaml says `main: analytics_warehouse.py`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components import DEFAULT_EVENT_COLUMNS, AnalyticsWarehouse, EventColumn, RegionKey, WarehouseArgs

REGION = "eu-central-1"
#: The clusters whose pods produce events, by region (made by the team's region stacks).
PRODUCER_CLUSTERS = {"eu-central-1": "payments-euc1", "us-east-1": "payments-use1"}


def main() -> dict[str, Any]:
    pinned = {
        region: pulumi.ResourceOptions(providers=[aws.Provider(region, region=region)])
        for region in PRODUCER_CLUSTERS
    }
    key = RegionKey(
        "payments-analytics", region=REGION, deletion_window_days=30, protect=True, opts=pinned[REGION]
    )
    warehouse = AnalyticsWarehouse(
        "payments",
        WarehouseArgs(
            name_prefix="payments",
            event_columns=(
                *DEFAULT_EVENT_COLUMNS,
                EventColumn(name="amount_cents", type="bigint", comment="order value, if any"),
            ),
            bytes_scanned_cutoff_per_query=1024**3,  # 1 GiB: a query over a day or a week is far less
        ),
        kms_key_arn=key.arn,
        opts=pinned[REGION],
    )
    for region, cluster in PRODUCER_CLUSTERS.items():
        warehouse.allow_producer(
            f"{cluster}-events-producer",
            cluster_name=cluster,
            namespace="api",
            service_account="events-producer",
            opts=pinned[region],  # the association lives with the cluster
        )
    exports = warehouse.outputs()  # buckets, streamName/Arn, Glue names, workgroupName, producerRoleArn
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
