def test_send_then_receive_then_acknowledge(backend):
    queues = backend.ports.queues
    queues.send("inbox", '{"id": "tx-1"}', group="tx-1", deduplication="tx-1-inbox")

    [message] = queues.receive("inbox", 10)

    assert (message.body, message.group, message.receive_count) == ('{"id": "tx-1"}', "tx-1", 1)
    queues.acknowledge("inbox", [message])
    assert queues.receive("inbox", 10) == []
    assert queues.depth("inbox") == 0


def test_a_group_is_received_in_order(backend):
    queues = backend.ports.queues
    for n in range(3):
        queues.send("process", f"body-{n}", group="tx-1", deduplication=f"tx-1-{n}")

    received = queues.receive("process", 10)

    assert [message.body for message in received] == ["body-0", "body-1", "body-2"]


def test_a_group_waits_while_one_of_its_messages_is_in_flight(backend):
    queues = backend.ports.queues
    queues.send("inbox", "a-1", group="a", deduplication="a-1")
    queues.send("inbox", "a-2", group="a", deduplication="a-2")
    queues.send("inbox", "b-1", group="b", deduplication="b-1")
    first = queues.receive("inbox", 1)
    assert [message.body for message in first] == ["a-1"]

    assert [message.body for message in queues.receive("inbox", 10)] == ["b-1"]
    queues.acknowledge("inbox", first)
    assert [message.body for message in queues.receive("inbox", 10)] == ["a-2"]


def test_a_released_message_comes_back_before_the_rest_of_its_group(backend):
    queues = backend.ports.queues
    queues.send("inbox", "a-1", group="a", deduplication="a-1")
    queues.send("inbox", "a-2", group="a", deduplication="a-2")
    first = queues.receive("inbox", 1)

    queues.release_unprocessed("inbox", first)

    assert [message.body for message in queues.receive("inbox", 10)] == ["a-1", "a-2"]


def test_receive_takes_more_than_one_sqs_batch(backend):
    queues = backend.ports.queues
    for n in range(12):
        queues.send("release", f"body-{n:02}", group=f"tx-{n}", deduplication=f"tx-{n}")

    received = queues.receive("release", 11)

    assert len(received) == 11
    assert len({message.body for message in received}) == 11
    assert queues.depth("release") == 1


def test_released_messages_are_visible_again(backend):
    queues = backend.ports.queues
    queues.send("process", "body", group="tx-1", deduplication="tx-1-process")
    [first] = queues.receive("process", 10)
    assert queues.depth("process") == 0

    queues.release_unprocessed("process", [first])

    assert queues.depth("process") == 1
    [again] = queues.receive("process", 10)
    assert (again.message_id, again.body, again.receive_count) == (first.message_id, "body", 2)
    assert first.receive_count == 1
    assert again.receipt != first.receipt


def test_the_same_deduplication_id_is_delivered_once(backend):
    queues = backend.ports.queues
    queues.send("release", "first", group="tx-1", deduplication="tx-1-release")
    queues.send("release", "second", group="tx-1", deduplication="tx-1-release")

    assert [message.body for message in queues.receive("release", 10)] == ["first"]


def test_steps_have_separate_queues(backend):
    queues = backend.ports.queues
    queues.send("inbox", "for inbox", group="tx-1", deduplication="tx-1")

    assert queues.receive("process", 10) == []
    assert [message.body for message in queues.receive("inbox", 10)] == ["for inbox"]
