"""Thin Lambda handlers: API Gateway proxy routes, SQS workers with partial batch failures, schedules."""
