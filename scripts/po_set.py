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


def set_translations(path: str, mapping: dict[str, str]) -> int:
    blocks = open(path, encoding="utf-8").read().split("\n\n")
    changed = 0
    for i, block in enumerate(blocks):
        lines = block.split("\n")
        try:
            start = next(n for n, line in enumerate(lines) if line.startswith("msgid "))
        except StopIteration:
            continue
        end = next(n for n, line in enumerate(lines) if line.startswith(("msgstr", "msgid_plural")))
        if lines[end].startswith("msgid_plural"):
            continue  # plural entries are edited by hand
        msgid_lines = [lines[start][6:]] + lines[start + 1 : end]
        msgid = unquote(msgid_lines)
        if msgid not in mapping:
            continue
        head = [line for line in lines[:start] if not line.startswith("#| ")]
        head = [re.sub(r"^#, fuzzy, ", "#, ", line) for line in head if line != "#, fuzzy"]
        blocks[i] = "\n".join(head + lines[start:end] + ["msgstr " + quote(mapping[msgid])])
        changed += 1
    open(path, "w", encoding="utf-8").write("\n\n".join(blocks))
    return changed


if __name__ == "__main__":
    path, pairs = sys.argv[1], sys.argv[2:]
    mapping = dict(p.split("=", 1) for p in pairs) if pairs else json.load(sys.stdin)
    print(f"{set_translations(path, mapping)} entries set")
