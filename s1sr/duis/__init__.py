"""DUIS XML in and out: safe parsing, typed Service Requests, SMETS1 Responses, schema validation."""
