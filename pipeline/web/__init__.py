"""The officers' web app: search the threaded advice history, read a thread and its advice chain.

A face: it reads the store through pipeline.queries on a read-only connection and
writes only its own primary tables (users, api_tokens, audit_log, web_secrets).
"""
