"""Take the README's screenshots of the studio from a running `cms-api serve`.

    .venv/bin/cms-api users login-link admin@example.org   # prints LINK
    .venv/bin/python docs/screenshots.py LINK

Debian's Chromium (`/usr/bin/chromium`) is driven by Playwright, as the browser tests do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent / "screenshots"
# (file name, path, what the README says of it)
SCREENS = [
    ("start.png", "/studio/", "the start page"),
    ("articles.png", "/studio/articles", "the article list and its filters"),
    ("questions.png", "/studio/questions", "reader questions"),
    ("users.png", "/studio/admin/users", "users and their roles"),
]


def main(link: str) -> None:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(link))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(link)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{origin}/studio/")
        for name, path, _ in SCREENS:
            page.goto(origin + path)
            page.screenshot(path=HERE / name)
        # The editor on the sample article shaped like the reference page, and that
        # article's calls to action.
        page.goto(origin + "/studio/articles?q=headache-after-botox")
        page.get_by_role("link", name="Headache After Botox", exact=False).first.click()
        editor = page.url
        page.screenshot(path=HERE / "editor.png")
        page.goto(editor + "/actions")
        page.screenshot(path=HERE / "parts.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1])
