"""Logging with AWS Lambda Powertools: structured JSON, request id and member id appended per
request by the entry points. Never log tokens, emails or phone numbers."""

from __future__ import annotations

from aws_lambda_powertools import Logger

SERVICE = "loyalty-api"
logger = Logger(service=SERVICE)
