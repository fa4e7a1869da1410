"""`zhili open311 create-key --name NAME | revoke-key PREFIX | list-keys`.

Keys authenticate Open311 client applications for POST requests. The raw key
is printed once by create-key and never stored (only its SHA-256).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhili.core.errors import ApplicationError
from zhili.governance.models import Open311Key
from zhili.governance.open311.keys import (
    open311_key_by_prefix,
    open311_key_create,
    open311_key_revoke,
)


class Command(BaseCommand):
    help = "Mint, revoke and list Open311 API keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True,
                                    metavar="{create-key,revoke-key,list-keys}")
        create = sub.add_parser("create-key", help="mint a key and print it once")
        create.add_argument("--name", required=True, help="who the key is for (client name)")
        revoke = sub.add_parser("revoke-key", help="revoke the key with this prefix")
        revoke.add_argument("prefix", help="the key's prefix as list-keys shows it (or the key)")
        sub.add_parser("list-keys", help="list keys (prefix, name, created, revoked)")

    def handle(self, *args, **options):
        try:
            return getattr(self, options["subcommand"].replace("-", "_"))(options)
        except ApplicationError as exc:
            detail = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
            raise CommandError(detail) from None

    def create_key(self, options):
        key, raw = open311_key_create(actor=None, name=options["name"])
        self.stdout.write(raw)
        self.stderr.write(f"Open311 key {key.prefix}… for {key.name!r} created. "
                          "Store it now: it is not shown again.")

    def revoke_key(self, options):
        key = open311_key_by_prefix(options["prefix"])
        already = key.revoked_at is not None
        key = open311_key_revoke(actor=None, key=key)
        state = "was already revoked" if already else "revoked"
        self.stdout.write(f"{key.prefix}… {key.name!r} {state} "
                          f"({timezone.localtime(key.revoked_at):%Y-%m-%d %H:%M})")

    def list_keys(self, options):
        keys = Open311Key.objects.order_by("created_at")
        if not keys:
            self.stdout.write("no Open311 keys")
            return
        for key in keys:
            revoked = (f"revoked {timezone.localtime(key.revoked_at):%Y-%m-%d %H:%M}"
                       if key.revoked_at else "active")
            self.stdout.write(f"{key.prefix:<14} {timezone.localtime(key.created_at):%Y-%m-%d %H:%M}"
                              f"  {revoked:<24} {key.name}")
