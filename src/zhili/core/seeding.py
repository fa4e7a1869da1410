"""Seeding the demo city: the apps' demo steps (see core.plugins.DemoStep).

Steps run after the steps they name in `after`, otherwise in INSTALLED_APPS
order (geo before accounts before registry …), so later apps can rely on
earlier ones' data. Each step is idempotent: it adds only what is missing, so
rerunning after an interruption does no harm.
"""

from __future__ import annotations

from zhili.core.plugins import registry, resolve

DEMO_PASSWORD = "zhili-demo-2026"


def seed_demo(*, seed: int = 1, log=print) -> None:
    for step in registry().demo_steps:
        log(f"· {step.name}")
        resolve(step.seed)(seed=seed, log=log)


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, where, role) of every demo login the steps created."""
    rows: list[tuple[str, str, str]] = []
    for step in registry().demo_steps:
        if step.logins:
            rows.extend(resolve(step.logins)())
    return rows
