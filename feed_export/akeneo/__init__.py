"""Akeneo's REST API: authentication, response classification, retries, endpoints."""
