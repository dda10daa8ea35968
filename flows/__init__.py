"""Guides: step-by-step procedures residents follow by SMS, as YAML data, with their schema and checker."""
