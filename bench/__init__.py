"""`make bench`: what a request costs in the Lambda handler, and what importing it costs."""
