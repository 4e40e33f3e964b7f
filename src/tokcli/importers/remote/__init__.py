"""Imports that fetch their rows from a server (the providers' admin APIs, a LiteLLM proxy's
database) and write them through importers/write.py like a file."""
