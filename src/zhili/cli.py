"""The `zhili` command: Django's management commands under the project's name.

`zhili city generate …`, `zhili demo`, `zhili worker`, `zhili users token …`,
`zhili audit verify`, and every Django command (`zhili migrate`, …).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "zhili"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
