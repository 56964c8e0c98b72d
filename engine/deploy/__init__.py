"""Packaging and deployment of the engine as Lambdas (``rp2 package``, ``rp2 deploy``), and driving a deployed stack.

Runs on the operator's machine, never inside a Lambda: the artifact leaves this package out.
"""
