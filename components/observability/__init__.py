"""A region's alarms (`RegionAlarms`), the cluster's metrics and logs (`ClusterTelemetry`,
`PrometheusAgent`) and the stack's Grafana (`GrafanaWorkspace`); their typed inputs (`args`), the
scrape jobs (`scrape`) and Grafana's data sources (`grafana_sources`).

Import the public names from `components`. This file imports nothing, so reading `args` alone
does not load the Pulumi SDKs.
"""
