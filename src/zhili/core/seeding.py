"""Seeding the demo city: each app may have a `demo.py` with `seed(*, seed, log)`.

Apps seed in INSTALLED_APPS order (geo before accounts before registry …), so
later apps can rely on earlier ones' data. Each seeder is idempotent: it adds
only what is missing, so rerunning after an interruption does no harm.
"""

from __future__ import annotations

import importlib
import importlib.util

from django.apps import apps

DEMO_PASSWORD = "zhili-demo-2026"


def seeders():
    for config in apps.get_app_configs():
        if not config.name.startswith("zhili."):
            continue
        module_name = f"{config.name}.demo"
        if importlib.util.find_spec(module_name) is not None:
            yield config.label, importlib.import_module(module_name)


def seed_demo(*, seed: int = 1, log=print) -> None:
    for label, module in seeders():
        log(f"· {label}")
        module.seed(seed=seed, log=log)
