"""Alerts: a Slack webhook when one is configured, always a JSON-lines log file.

`DONGNE_SLACK_WEBHOOK_URL` turns Slack on (an incoming-webhook URL; any endpoint that
accepts Slack's `{"text": ...}` JSON works). Every alert is also appended to
`<DONGNE_DATA_DIR>/alerts.log` and printed, so a laptop without Slack still has them.
A webhook that fails never fails the pipeline: the alert is logged with the error.
"""

import json
import os
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import ConfigurableResource, get_dagster_logger

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


class NotifierResource(ConfigurableResource):
    """Where alerts go. Built from the environment by `from_environment`."""

    alert_log: str
    slack_webhook_url: str = ""
    ui_url: str = "http://127.0.0.1:3000"

    @classmethod
    def from_environment(cls, data_dir: Path) -> "NotifierResource":
        return cls(
            alert_log=str(data_dir / "alerts.log"),
            slack_webhook_url=os.environ.get("DONGNE_SLACK_WEBHOOK_URL", ""),
            ui_url=os.environ.get("DONGNE_UI_URL", "http://127.0.0.1:3000").rstrip("/"),
        )

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url}/runs/{run_id}"

    def send(self, alert: Alert) -> None:
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
