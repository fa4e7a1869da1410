"""`zhili users …`: what an administrator does on the server.

  token USERNAME [--days N] [--name NAME]   mint an API token; the key is printed once
  revoke-token PREFIX                       revoke the token whose key starts with PREFIX
  create USERNAME --role ROLE --area CODE [--department CODE] [--display-name NAME]
         [--password-stdin]                 a new user with one role
  assign USERNAME --role ROLE --area CODE [--department CODE]   one more role
  list [--role ROLE] [--area CODE]          users and their roles

Run on the server, these act as `system` in the audit log. Mistakes (unknown
user, area or role) print one line and exit with status 1, never a traceback.
"""

from __future__ import annotations

import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from zhili.accounts import services
from zhili.accounts.models import ApiToken, Department, RoleAssignment, User
from zhili.accounts.roles import Role
from zhili.core.errors import ApplicationError


def _area(code: str):
    from zhili.geo.selectors import node_by_code

    code = code.strip()
    node = node_by_code(code)
    if node is None:
        raise CommandError(f"No area with code {code!r} (e.g. 500103 or 500103001001).")
    return node


def _department(code: str | None):
    if not code:
        return None
    department = Department.objects.filter(code=code).first()
    if department is None:
        known = ", ".join(Department.objects.values_list("code", flat=True))
        raise CommandError(f"No department {code!r}; known: {known}")
    return department


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username!r}.")
    return user


def _explain(exc: ApplicationError) -> CommandError:
    fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return CommandError(fields or exc.detail)


class Command(BaseCommand):
    help = "Manage users, roles and API tokens (token, revoke-token, create, assign, list)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True,
                                    metavar="{token,revoke-token,create,assign,list}")
        token = sub.add_parser("token", help="mint an API token for USERNAME (printed once)")
        token.add_argument("username")
        token.add_argument("--days", type=int, default=90, help="validity, 1-366 (default 90)")
        token.add_argument("--name", default="cli", help="what the token is for")

        revoke = sub.add_parser("revoke-token", help="revoke the token whose key starts with PREFIX")
        revoke.add_argument("prefix")

        roles = ", ".join(Role.values)
        create = sub.add_parser("create", help="create a user holding one role")
        assign = sub.add_parser("assign", help="give an existing user one more role")
        for p in (create, assign):
            p.add_argument("username")
            p.add_argument("--role", required=True, choices=Role.values, metavar="ROLE",
                           help=f"one of: {roles}")
            p.add_argument("--area", required=True, help="area code, e.g. 500103 or 500103001")
            p.add_argument("--department", help="department code (department officers)")
        create.add_argument("--display-name", default="")
        create.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input; "
                                 "without it the user has no password (tokens only)")

        listing = sub.add_parser("list", help="users and their roles")
        listing.add_argument("--role", choices=Role.values, metavar="ROLE")
        listing.add_argument("--area", help="roles held at this area or below")

    def handle(self, *args, **options):
        handler = {
            "token": self.token, "revoke-token": self.revoke_token, "create": self.create,
            "assign": self.assign, "list": self.list_users,
        }[options["subcommand"]]
        try:
            handler(options)
        except ApplicationError as exc:
            raise _explain(exc) from None

    def token(self, options):
        user = _user(options["username"])
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is not active.")
        token, raw = services.token_create(actor=None, user=user, name=options["name"],
                                           days=options["days"])
        expires = timezone.localtime(token.expires_at)
        self.stderr.write(f"Token {token.prefix}… ({token.name}) for {user.username}, "
                          f"valid until {expires:%Y-%m-%d %H:%M}. It is shown only now:")
        self.stdout.write(raw)

    def revoke_token(self, options):
        prefix = options["prefix"].strip().rstrip("…").rstrip(".")
        if len(prefix) < 6:
            raise CommandError("Give at least the first 6 characters of the key (e.g. zl_AbC).")
        # The stored prefix has 10 characters: match either way round.
        candidates = ApiToken.objects.filter(prefix__startswith=prefix[:10]).select_related("user")
        matches = [t for t in candidates if prefix.startswith(t.prefix) or t.prefix.startswith(prefix)]
        if not matches:
            raise CommandError(f"No token starts with {prefix!r}.")
        if len(matches) > 1:
            listed = ", ".join(f"{t.prefix} ({t.user.username}, {t.name})" for t in matches)
            raise CommandError(f"{len(matches)} tokens start with {prefix!r}: {listed}. "
                               "Give more characters.")
        token = matches[0]
        was_revoked = token.revoked_at is not None
        services.token_revoke(actor=None, token=token)
        state = "was already revoked" if was_revoked else "revoked"
        self.stdout.write(f"Token {token.prefix}… ({token.name}) of {token.user.username} {state}.")

    def _role_target(self, options):
        return (options["role"], _area(options["area"]), _department(options.get("department")))

    def create(self, options):
        role, area, department = self._role_target(options)
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
            try:
                validate_password(password, User(username=options["username"]))
            except DjangoValidationError as exc:
                raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        with transaction.atomic():  # no user without their role
            user = services.user_create(actor=None, username=options["username"], password=password,
                                        display_name=options["display_name"])
            services.role_assign(actor=None, user=user, role=role, area=area, department=department)
        how = "with a password" if password else "without a password (use `zhili users token`)"
        self.stdout.write(f"Created {user.username} {how}: {Role(role).label} at "
                          f"{area.name} ({area.code}).")

    def assign(self, options):
        user = _user(options["username"])
        role, area, department = self._role_target(options)
        services.role_assign(actor=None, user=user, role=role, area=area, department=department)
        self.stdout.write(f"{user.username}: {Role(role).label} at {area.name} ({area.code}).")

    def list_users(self, options):
        assignments = RoleAssignment.objects.select_related("area", "department").order_by("area_path")
        users = User.objects.order_by("username")
        if options.get("role") or options.get("area"):
            matching = RoleAssignment.objects.all()
            if options.get("role"):
                matching = matching.filter(role=options["role"])
            if options.get("area"):
                matching = matching.filter(area_path__startswith=_area(options["area"]).path)
            users = users.filter(pk__in=matching.values("user_id"))
        users = users.prefetch_related(Prefetch("role_assignments", queryset=assignments))
        count = 0
        for user in users.iterator(chunk_size=1000):
            count += 1
            roles = "; ".join(
                f"{a.role}@{a.area.code}" + (f"/{a.department.code}" if a.department else "")
                for a in user.role_assignments.all()
            ) or "-"
            state = "" if user.is_active else " (inactive)"
            self.stdout.write(f"{user.username}{state}\t{user.display_name}\t{roles}")
        self.stderr.write(f"{count} user(s)")
