"""The stack's alarms and dashboard (infra/merge-template.json) read metrics the code writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from functions.core.metrics import Metric

TEMPLATE = json.loads((Path(__file__).parents[2] / "infra" / "merge-template.json").read_text())
RESOURCES = TEMPLATE["Resources"]
CATALOGUE = {m.value for m in Metric}


def test_every_business_alarm_reads_a_metric_of_the_catalogue_and_notifies_the_topic() -> None:
    alarms = {name: r["Properties"] for name, r in RESOURCES.items() if r.get("Type") == "AWS::CloudWatch::Alarm"}
    assert {"Api5xxRateAlarm", "ApiLatencyP99Alarm", "LambdaErrorsAlarm", "LambdaThrottlesAlarm",
            "ReminderFailuresAlarm", "SweepFailuresAlarm", "EmergenciesUnansweredAlarm",
            "PaymentWebhookFailuresAlarm", "NotificationsDroppedAlarm"} <= set(alarms)
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        if props.get("Namespace") == "CureConnect":
            assert props["MetricName"] in CATALOGUE
            assert props["Dimensions"] == [{"Name": "service", "Value": "cureconnect"}]


def test_the_dashboard_shows_only_metrics_the_code_writes() -> None:
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    ours = [m[1] for w in widgets for m in w["properties"]["metrics"] if m[0] == "CureConnect"]
    assert ours and set(ours) <= CATALOGUE
    # Fn::Sub names only the template's own parameters and pseudo parameters
    assert set(re.findall(r"\$\{([^}]+)\}", body)) <= {"AWS::Region", "AWS::StackName", "ApiStageName"}
