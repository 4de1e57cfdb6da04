"""Alerts: a Slack webhook when one is configured, always a JSON-lines log file.

`DONGNE_SLACK_WEBHOOK_URL` turns Slack on (an incoming-webhook URL; any endpoint that
accepts Slack's `{"text": ...}` JSON works). Every alert is also appended to
`<DONGNE_DATA_DIR>/alerts.log` and printed, so a laptop without Slack still has them.
A webhook that fails never fails the pipeline: the alert is logged with the error.

Two kinds: a run's outcome (`Alert`, from the run sensors) and a metric that left its band
(`AnomalyAlert`, from the dbt step: marts.fct_metric_anomalies), sent once per metric, day
and direction, with a link to the dashboard that shows it (`DONGNE_BI_URL`, `make bi`'s
Superset).
"""

import json
import os
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import ConfigurableResource, get_dagster_logger

from orchestration.freshness import write_aside
from orchestration.settings import dashboards_url

KST = ZoneInfo("Asia/Seoul")


@dataclass
class Alert:
    """One message about one run: what a person on call needs to act on it."""

    status: str  # "success" or "failure"
    job: str
    run_id: str
    run_url: str
    partitions: str  # "2026-09-03", "2026-09-01..2026-09-07" or "-"
    assets: list[str] = field(default_factory=list)
    error: str = ""
    at: str = field(default_factory=lambda: datetime.now(KST).isoformat(timespec="seconds"))

    def text(self) -> str:
        icon = ":white_check_mark:" if self.status == "success" else ":rotating_light:"
        lines = [
            f"{icon} Dongne Data: `{self.job}` {self.status.upper()} "
            f"(partitions {self.partitions})",
            f"assets: {', '.join(self.assets) if self.assets else 'all in the job'}",
        ]
        if self.error:
            lines.append(f"error: {self.error}")
        lines.append(f"run: {self.run_url}")
        return "\n".join(lines)


@dataclass
class AnomalyAlert:
    """A headline metric outside its expected range on a complete day."""

    metric: str
    day: str
    figure: float
    lower_bound: float
    upper_bound: float
    direction: str  # "drop" or "spike"
    sentence: str
    dashboard_url: str
    run_url: str
    at: str = field(default_factory=lambda: datetime.now(KST).isoformat(timespec="seconds"))

    @property
    def key(self) -> str:
        """One alert per metric, day and direction, however many builds see it."""
        return f"{self.metric}|{self.day}|{self.direction}"

    def text(self) -> str:
        icon = (
            ":chart_with_downwards_trend:"
            if self.direction == "drop"
            else ":chart_with_upwards_trend:"
        )
        return "\n".join(
            [
                f"{icon} Dongne Data: {self.metric} {self.direction} on {self.day}: "
                f"{self.figure:,.0f}, expected {self.lower_bound:,.0f} to {self.upper_bound:,.0f}",
                self.sentence,
                f"dashboard: {self.dashboard_url}",
                f"run: {self.run_url}",
            ]
        )


class NotifierResource(ConfigurableResource):
    """Where alerts go. Built from the environment by `from_environment`."""

    alert_log: str
    slack_webhook_url: str = ""
    ui_url: str = "http://127.0.0.1:3000"
    bi_url: str = "http://127.0.0.1:8088"

    @classmethod
    def from_environment(cls, data_dir: Path) -> "NotifierResource":
        return cls(
            alert_log=str(data_dir / "alerts.log"),
            slack_webhook_url=os.environ.get("DONGNE_SLACK_WEBHOOK_URL", ""),
            ui_url=os.environ.get("DONGNE_UI_URL", "http://127.0.0.1:3000").rstrip("/"),
            bi_url=dashboards_url(),
        )

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url}/runs/{run_id}"

    def dashboard_url(self, slug: str) -> str:
        return f"{self.bi_url}/superset/dashboard/{slug}/"

    def send_new_anomalies(self, alerts: Iterable[AnomalyAlert]) -> list[AnomalyAlert]:
        """Send the anomalies not sent before (remembered beside the alert log, each as soon
        as it is sent), oldest first; returns those sent. Runs in the dbt step, which the
        warehouse pool runs one at a time: two sends never race."""
        sent_path = Path(self.alert_log).with_name("alerted_anomalies.json")
        sent = set(json.loads(sent_path.read_text())) if sent_path.exists() else set()
        new = sorted((a for a in alerts if a.key not in sent), key=lambda a: (a.day, a.metric))
        for alert in new:
            self.send(alert)
            sent.add(alert.key)
            write_aside(sent_path, json.dumps(sorted(sent), indent=0))
        return new

    def send(self, alert: Alert | AnomalyAlert) -> None:
        log = get_dagster_logger()
        record = asdict(alert)
        if self.slack_webhook_url:
            try:
                request = urllib.request.Request(
                    self.slack_webhook_url,
                    data=json.dumps({"text": alert.text()}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    record["delivered_to"] = f"webhook ({response.status})"
            except OSError as error:
                record["delivered_to"] = f"webhook failed: {error}"
                log.warning(f"alert webhook failed ({error}); the alert is in {self.alert_log}")
        path = Path(self.alert_log)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        log.info(alert.text())
