"""Local only: the dev server, its tokens, GraphiQL page, demo data and table creation.

The Lambda artifact leaves this whole folder out (infra/build.py).
"""
