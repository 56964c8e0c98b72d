"""``rp2 serve``: the upstream's HTTP routes and an OAuth2 client-credentials token endpoint on 127.0.0.1.

Runs on a developer's machine only; the Lambda artifact leaves this package out.
"""
