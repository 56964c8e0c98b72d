"""rp2 engine: the ISO 20022 payment workflow, importable by Lambdas, the simulator, the CLI and tests."""
