def test_put_then_get_returns_the_bytes(backend):
    archive = backend.ports.archive
    body = b'<?xml version="1.0" encoding="UTF-8"?><Document>\xc3\xa9</Document>'

    archive.put("inbox/2024/05/01/tx-1.xml", body)

    assert archive.get("inbox/2024/05/01/tx-1.xml") == body


def test_put_again_replaces_the_body(backend):
    archive = backend.ports.archive
    archive.put("outbox/tx-1.xml", b"first")
    archive.put("outbox/tx-1.xml", b"second")

    assert archive.get("outbox/tx-1.xml") == b"second"


def test_get_missing_returns_none(backend):
    assert backend.ports.archive.get("inbox/missing.xml") is None
