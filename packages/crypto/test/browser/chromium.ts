/**
 * How the crypto package's browser tests and benchmark launch Chromium: the machine's own (Debian's
 * /usr/bin/chromium, or `CHROMIUM_PATH`), headless, with nothing that reaches the network. Never a
 * browser download.
 */
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};
