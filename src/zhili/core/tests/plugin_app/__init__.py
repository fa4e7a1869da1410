"""A tiny app installed only by the plug-in test: street lamps.

It is what docs/architecture.md "Adding an app" describes, at its smallest:
everything it adds (a permission for a role, a menu item, a page, a demo step
with a login, a map layer) is declared in its own apps.py.
"""
