"""Loyalty API domain: framework-free services over DynamoDB.

Nothing here imports strawberry, mangum or the entry points; GraphQL, the scheduled
handlers and scripts all call the same services.
"""
