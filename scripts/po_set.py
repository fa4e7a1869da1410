"""Set translations in a .po file and clear their fuzzy flags.

    python scripts/po_set.py FILE.po 'msgid=msgstr' ...   (or a JSON object on stdin)

For the team's translation passes: `zhili makemessages` marks guesses fuzzy;
this fills them without hand-editing multi-line entries.
"""

import json
import re
import sys


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def unquote(lines: list[str]) -> str:
    return "".join(json.loads(line) for line in lines)


def set_translations(path: str, mapping: dict[str, str], only_missing: bool = False) -> int:
    """Set msgstr for each msgid in `mapping`; with `only_missing`, leave entries that
    already have a translation that is not fuzzy (another file's strings, shared
    msgids such as "Status", keep theirs). Plural entries get msgstr[0] (zh-Hans
    has one form)."""
    blocks = open(path, encoding="utf-8").read().split("\n\n")
    changed = 0
    for i, block in enumerate(blocks):
        lines = block.split("\n")
        try:
            start = next(n for n, line in enumerate(lines) if line.startswith("msgid "))
        except StopIteration:
            continue
        end = next(n for n, line in enumerate(lines) if line.startswith(("msgstr", "msgid_plural")))
        msgid_lines = [lines[start][6:]] + lines[start + 1 : end]
        msgid = unquote(msgid_lines)
        if msgid not in mapping:
            continue
        plural = lines[end].startswith("msgid_plural")
        first = next(n for n, line in enumerate(lines) if line.startswith("msgstr"))
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines[:start])
        current = unquote([lines[first].split(" ", 1)[1]] + [
            line for line in lines[first + 1:] if line.startswith('"')])
        if only_missing and current and not fuzzy:
            continue
        head = [line for line in lines[:start] if not line.startswith("#| ")]
        head = [re.sub(r"^#, fuzzy, ", "#, ", line) for line in head if line != "#, fuzzy"]
        tag = "msgstr[0] " if plural else "msgstr "
        blocks[i] = "\n".join(head + lines[start:first] + [tag + quote(mapping[msgid])])
        changed += 1
    open(path, "w", encoding="utf-8").write("\n\n".join(blocks))
    return changed


if __name__ == "__main__":
    args = sys.argv[1:]
    only_missing = "--only-missing" in args
    args = [a for a in args if a != "--only-missing"]
    path, pairs = args[0], args[1:]
    mapping = dict(p.split("=", 1) for p in pairs) if pairs else json.load(sys.stdin)
    print(f"{set_translations(path, mapping, only_missing)} entries set")
