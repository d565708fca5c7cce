"""The Rostelecom integration's metrics, made once per app on its registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True, slots=True)
class VpbxMetrics:
    webhooks: Counter
    rejected: Counter
    ignored: Counter
    number_info: Counter
    number_info_seconds: Histogram
    api_calls: Counter
    quota_remaining: Gauge

    @classmethod
    def on(cls, registry: CollectorRegistry) -> VpbxMetrics:
        return cls(
            webhooks=Counter(
                "telebridge_vpbx_webhooks",
                "Webhooks from the Rostelecom PBX accepted, by method and key",
                ["method", "key"],
                registry=registry,
            ),
            rejected=Counter(
                "telebridge_vpbx_webhooks_rejected",
                "Webhooks refused, by method and reason (the error id)",
                ["method", "reason"],
                registry=registry,
            ),
            ignored=Counter(
                "telebridge_vpbx_call_events_ignored",
                "call_events accepted but not turned into call events, by reason",
                ["reason"],
                registry=registry,
            ),
            number_info=Counter(
                "telebridge_vpbx_number_info",
                "get_number_info answers, by outcome (pin, name, empty, timeout)",
                ["outcome"],
                registry=registry,
            ),
            number_info_seconds=Histogram(
                "telebridge_vpbx_number_info_seconds",
                "Time to answer get_number_info",
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
                registry=registry,
            ),
            api_calls=Counter(
                "telebridge_vpbx_api_calls",
                "Calls to the Integration API, by method and outcome",
                ["method", "outcome"],
                registry=registry,
            ),
            quota_remaining=Gauge(
                "telebridge_vpbx_quota_remaining",
                "Calls left in the method's hourly quota",
                ["method"],
                registry=registry,
            ),
        )
