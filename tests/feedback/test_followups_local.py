"""`make run` closes the loop too: its embedded AWS (moto's server) has the event bus, and its
stream poller opens a follow-up for an unhappy answer and announces it there."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import boto3

from api.feedback.surveys_model import Answer, SurveyChannel, SurveyKind
from api.feedback.surveys_store import answer_to_item
from api.ids import member_id_for
from local.server import LOCAL_BUS
from tests.local_run import local_server
from tests.support import START


def test_make_run_announces_a_new_follow_up_on_its_bus() -> None:
    with local_server() as server:
        found = re.search(r"^DynamoDB: embedded .* at (\S+), table (\S+)", server.banner, re.M)
        assert found, server.banner
        endpoint, table = found.groups()
        assert f"EventBridge: bus {LOCAL_BUS} at {endpoint}" in server.banner
        aws = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        keys = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        events = boto3.client("events", **aws, **keys)
        sqs = boto3.client("sqs", **aws, **keys)
        queue = sqs.create_queue(QueueName="helpdesk")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        pattern = json.dumps({"detail-type": ["FollowUpOpened"]})
        events.put_rule(Name="helpdesk", EventBusName=LOCAL_BUS, EventPattern=pattern)
        target = {"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}
        events.put_targets(Rule="helpdesk", EventBusName=LOCAL_BUS, Targets=[target])
        member_id = member_id_for("demo-bob")
        unhappy = Answer(
            "ans_local", member_id, SurveyKind.NPS, 2, "Slow.", SurveyChannel.APP, START
        )
        dynamodb = boto3.client("dynamodb", **aws, **keys)
        dynamodb.put_item(TableName=table, Item=answer_to_item(unhappy).serialize())
        deadline = time.monotonic() + 60  # behind the demo seed's own records
        # The demo's own unhappy answers may be announced meanwhile: find this one's.
        details: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not any(
            d["followUpId"] == "fu_ans_local" for d in details
        ):
            got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
            details += [json.loads(m["Body"])["detail"] for m in got]
        [detail] = [d for d in details if d["followUpId"] == "fu_ans_local"]
        assert (detail["followUpId"], detail["memberId"], detail["score"]) == (
            "fu_ans_local",
            member_id,
            2,
        )
