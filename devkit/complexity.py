"""`make check`'s complexity gate: no function in the deployed code or the flow language above
12 by radon's count, which (unlike ruff's mccabe) counts boolean operators too."""

from __future__ import annotations

import sys
from pathlib import Path

from radon.complexity import cc_visit

from devkit.local_aws import ROOT

LIMIT = 12
CHECKED = (ROOT / "app.py", ROOT / "chalicelib", ROOT / "flowlang")


def too_complex(roots: tuple[Path, ...] = CHECKED) -> list[str]:
    found = []
    for root in roots:
        for source in [root] if root.is_file() else sorted(root.rglob("*.py")):
            for block in cc_visit(source.read_text(encoding="utf-8")):
                if block.complexity > LIMIT:
                    found.append(f"{source.name}:{block.lineno} {block.name} ({block.complexity})")
    return found


def main() -> int:
    found = too_complex()
    for line in found:
        print(f"more complex than {LIMIT}: {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
