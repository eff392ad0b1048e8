"""A headless browser for the call page's tests: Debian's chromium driven by Playwright (never a
downloaded browser), with fake camera and microphone, and AGORA_RECORDER, which stands in for
Agora's servers (out of reach here) at the SDK's network edge.

    browser = launch(playwright)
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    context.add_init_script(AGORA_RECORDER)
    ... page.evaluate("window.__agora.joins")
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # getUserMedia answers at once, with Chromium's test pattern and beep.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]

# Runs before any script of the page. When the real SDK (served by our services) defines
# window.AgoraRTC, createClient is wrapped: its client's join, publish and leave record their
# arguments and resolve instead of reaching Agora; `on` records the handlers the page registers
# (a test calls one as the SDK would). Content-Security-Policy violations are recorded too.
AGORA_RECORDER = """
(() => {
  const rec = window.__agora = { joins: [], published: [], left: 0, handlers: {}, csp: [] };
  document.addEventListener("securitypolicyviolation", (e) => {
    rec.csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber + ":" + e.columnNumber + " " + e.sample);
  });
  let sdk;
  Object.defineProperty(window, "AgoraRTC", {
    configurable: true,
    get() { return sdk; },
    set(real) {
      const createClient = real.createClient;
      sdk = Object.create(real, {
        createClient: {
          value(...args) {
            const client = createClient.apply(real, args);
            const on = client.on.bind(client);
            client.on = (event, handler) => { rec.handlers[event] = handler; return on(event, handler); };
            client.join = async (...joinArgs) => { rec.joins.push(joinArgs); return joinArgs[3]; };
            client.publish = async (tracks) => {
              rec.published.push([].concat(tracks).map((t) => t.trackMediaType));
            };
            client.leave = async () => { rec.left += 1; };
            return client;
          },
        },
      });
    },
  });
})();
"""


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def recorded(page: Page) -> dict[str, Any]:
    """What AGORA_RECORDER saw on the page (handlers by name only)."""
    value: dict[str, Any] = page.evaluate(
        "() => ({...window.__agora, handlers: Object.keys(window.__agora.handlers)})"
    )
    return value
