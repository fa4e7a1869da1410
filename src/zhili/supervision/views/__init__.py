"""Supervision's pages: the report archive and the problem lists."""
