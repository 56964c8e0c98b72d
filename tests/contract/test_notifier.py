import json

TX = "6f1c2a3e-0000-4000-8000-000000000001"


def test_publish_sends_id_owner_and_status(backend, read_notifications):
    backend.ports.notifier.publish(TX, "us-east-1", "ACSC")

    assert read_notifications() == [{"transaction_id": TX, "owner": "us-east-1", "status": "ACSC"}]


def test_owner_and_status_are_message_attributes(aws, read_raw_notifications):
    aws.ports.notifier.publish(TX, "us-west-2", "RJCT")

    [message] = read_raw_notifications()
    assert json.loads(message["Body"])["transaction_id"] == TX
    assert {name: value["StringValue"] for name, value in message["MessageAttributes"].items()} == {
        "owner": "us-west-2",
        "status": "RJCT",
    }
