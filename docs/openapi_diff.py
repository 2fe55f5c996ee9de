"""Show how the served /openapi.json differs between a git revision and the working tree.

    python docs/openapi_diff.py [REVISION]      (default: HEAD)

Both documents are built in-process by `create_app` (no database is contacted), dumped with
sorted keys, and compared line by line; no output means they are identical. Exit status 1
when they differ, so a check can require an unchanged contract.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DUMP = """
import json
from cms_api import create_app
from cms_api.config import Settings
url = "postgresql+psycopg://nobody@127.0.0.1:1/unused"
app = create_app({"TESTING": True, "CMS_SETTINGS": Settings(database_url=url),
                  "SQLALCHEMY_DATABASE_URI": url})
document = app.test_client().get("/openapi.json").get_json()
print(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False))
"""


def document_at(directory: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", DUMP],
        cwd=directory,
        env={"PYTHONPATH": str(directory), "PATH": "/usr/bin:/bin", "CMS_LOG_LEVEL": "error"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines(keepends=True)


def main() -> int:
    revision = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    with tempfile.TemporaryDirectory() as scratch:
        before_tree = Path(scratch) / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(before_tree), revision],
            cwd=ROOT,
            check=True,
        )
        try:
            before = document_at(before_tree)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(before_tree)], cwd=ROOT, check=True
            )
    after = document_at(ROOT)
    diff = list(difflib.unified_diff(before, after, f"openapi@{revision}", "openapi@working-tree"))
    sys.stdout.writelines(diff)
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
