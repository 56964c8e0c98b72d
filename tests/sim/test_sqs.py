"""The simulator's SQS FIFO queues, in virtual time."""

from __future__ import annotations

import simpy

from sim.sqs import FifoQueue


def run_through(env: simpy.Environment, t: float) -> None:
    """Process every event up to and including time t (env.run(until=t) stops before t's events)."""
    env.run(until=t + 1e-9)


def make(visibility: float = 30.0, max_receive: int = 3) -> tuple[simpy.Environment, FifoQueue, list]:
    env = simpy.Environment()
    dead: list = []
    return env, FifoQueue(env, "us-east-1/inbox", visibility_timeout_s=visibility, max_receive_count=max_receive, dead_letters=dead), dead


def bodies(deliveries) -> list[str]:
    return [d.message.body for d in deliveries]


def test_a_received_message_is_invisible_until_deleted_or_its_visibility_timeout_expires():
    env, queue, _ = make(visibility=30)
    queue.send("a-1", group="a", deduplication="a-1")
    [first] = queue.receive(10)
    assert (first.receive_count, queue.visible, queue.in_flight) == (1, 0, 1)
    run_through(env, 29.9)
    assert queue.receive(10) == []
    run_through(env, 30.0)
    [again] = queue.receive(10)
    assert (again.message.body, again.receive_count) == ("a-1", 2)
    assert queue.delete(first) is False  # the first receipt handle is stale
    assert queue.delete(again) is True
    env.run(until=100)
    assert queue.is_empty()


def test_a_group_is_held_while_one_of_its_messages_is_in_flight():
    env, queue, _ = make()
    for body, group in (("a-1", "a"), ("a-2", "a"), ("b-1", "b")):
        queue.send(body, group=group, deduplication=body)
    first = queue.receive(1)
    assert bodies(first) == ["a-1"]
    assert bodies(queue.receive(10)) == ["b-1"]
    assert queue.delete(first[0])
    assert bodies(queue.receive(10)) == ["a-2"]


def test_a_batch_takes_a_group_in_order_and_at_most_ten_messages():
    env, queue, _ = make()
    for n in range(3):
        queue.send(f"a-{n}", group="a", deduplication=f"a-{n}")
    for n in range(12):
        queue.send(f"g{n:02}", group=f"g{n:02}", deduplication=f"g{n:02}")
    batch = queue.receive(25)
    assert bodies(batch) == ["a-0", "a-1", "a-2"] + [f"g{n:02}" for n in range(7)]


def test_after_max_receive_count_receives_the_message_goes_to_the_dead_letter_queue():
    env, queue, dead = make(visibility=10, max_receive=3)
    queue.send("poison", group="p", deduplication="p")
    counts = []
    for t in (0, 11, 22, 33):
        run_through(env, t)
        counts.append([d.receive_count for d in queue.receive(10)])
    assert counts == [[1], [2], [3], []]
    assert [(d.queue, d.group, d.receive_count, round(d.moved_at, 6)) for d in dead] == [("us-east-1/inbox", "p", 3, 33.0)]
    assert queue.is_empty()


def test_a_deduplication_id_is_remembered_for_five_minutes():
    env, queue, _ = make()
    assert queue.send("first", group="a", deduplication="same") is True
    run_through(env, 299.9)
    assert queue.send("again", group="a", deduplication="same") is False
    run_through(env, 300.0)
    assert queue.send("later", group="a", deduplication="same") is True
    assert bodies(queue.receive(10)) == ["first", "later"]
    assert queue.deduplicated == 1


def test_a_delayed_send_enters_the_queue_when_the_sender_reaches_its_call():
    env, queue, _ = make()
    queue.send("late", group="a", deduplication="late", delay=0.25)
    assert (queue.receive(10), queue.pending, queue.is_empty()) == ([], 1, False)
    run_through(env, 0.25)
    assert bodies(queue.receive(10)) == ["late"]


def test_ready_fires_when_a_group_becomes_deliverable():
    env, queue, _ = make(visibility=5)
    queue.send("a-1", group="a", deduplication="a-1")
    [delivery] = queue.receive(10)
    woke = []

    def waiter():
        yield queue.ready()
        woke.append(env.now)

    env.process(waiter())
    env.run(until=20)
    assert woke == [5.0]
    assert delivery.receive_count == 1


def test_a_lost_delete_is_redelivered_after_the_extension():
    env, queue, _ = make(visibility=30)
    queue.send("a-1", group="a", deduplication="a-1")
    [delivery] = queue.receive(10)
    queue.extend_visibility(delivery, 5)
    run_through(env, 5)
    [again] = queue.receive(10)
    assert again.receive_count == 2
