"""What the live map hears: the lower apps' own post_save signals, connected here.

Lower apps never import cockpit; cockpit connects to their models' post_save
(named by string) from its AppConfig.ready(). The handler runs inside the
writer's transaction, so the event commits with the change or not at all.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models.signals import post_save

# (app label, model name, event kind)
WATCHED = (
    ("governance", "Case", "case"),
    ("warning", "Warning", "warning"),
    ("emergency", "RescueResource", "resource"),
    ("emergency", "Incident", "incident"),
)


def _handler(kind: str):
    def changed(sender, instance, raw=False, **kwargs):
        if raw:  # loaddata
            return
        from zhili.cockpit.live import publish

        publish(kind, instance.pk, getattr(instance, "area_path", "") or "")

    changed.__name__ = f"publish_{kind}"
    return changed


_handlers = {}


def connect() -> None:
    """Connect to every watched model that is installed (the emergency app may not be)."""
    for label, model_name, kind in WATCHED:
        try:
            model = apps.get_model(label, model_name)
        except LookupError:
            continue
        handler = _handlers.setdefault(kind, _handler(kind))
        post_save.connect(handler, sender=model, dispatch_uid=f"cockpit.live.{kind}")
