"""A real headless Chromium for the page's tests and the benchmark, and onnxruntime-web for the page.

Both are installed where absent: Chromium and its driver with apt-get (Debian's ``chromium`` and
``chromium-driver``), onnxruntime-web with npm into the repository's ignored ``.cache/npm``. Where
that cannot be done, the caller gets the reason, for a clear skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def _browser_paths() -> tuple[str | None, str | None]:
    browser = next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
    return browser, shutil.which("chromedriver")


def ensure_chromium() -> tuple[str, str] | str:
    """(browser, driver) paths, installing Debian's packages where they are missing; else why not."""
    browser, driver = _browser_paths()
    if browser and driver:
        return browser, driver
    if not shutil.which("apt-get"):
        return "no chromium/chromedriver on PATH and no apt-get to install them"
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return "no chromium/chromedriver on PATH, and installing them needs root (no sudo)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]):
            done = subprocess.run(prefix + command, capture_output=True, text=True, env=env, timeout=900)
            if done.returncode != 0 and command[1] == "install":
                return f"could not install chromium: {(done.stderr.strip().splitlines() or ['?'])[-1][:200]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"could not install chromium: {exc}"
    browser, driver = _browser_paths()
    return (browser, driver) if browser and driver else "chromium was installed but is not on PATH"


def ensure_ort_web() -> Path | str:
    """onnxruntime-web's dist/ folder, installed with npm into .cache/npm where missing; else why not."""
    from trainer.sharing.webassets import NPM_CACHE, find_ort_web

    found = find_ort_web()
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        return "onnxruntime-web is not installed and there is no npm to install it"
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(NPM_CACHE),
                               "onnxruntime-web@1"], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"npm install onnxruntime-web failed: {exc}"
    found = find_ort_web()
    if found is None:
        return f"npm install onnxruntime-web failed: {(done.stderr.strip().splitlines() or ['?'])[-1][:200]}"
    return found


def start_chromium(browser: str, driver: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1200,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, read by the page tests
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)
