// Opens a URL in headless Chromium (Debian's /usr/bin/chromium, software rendering) with playwright-core,
// waits WAIT_S seconds, then saves SHOTS screenshots INTERVAL_S apart: OUT_0.png, OUT_1.png, ...
// usage: node screenshot.mjs URL OUT_PREFIX WAIT_S USER_DATA_DIR [SHOTS] [INTERVAL_S]
import { chromium } from "playwright-core";

const [url, prefix, waitS, userDataDir, shots = "1", intervalS = "10"] = process.argv.slice(2);
const args = [
  "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
];
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args,
  viewport: { width: 1280, height: 800 },
});
const page = context.pages()[0] || (await context.newPage());
page.on("console", (msg) => { if (msg.type() === "error") console.error("console:", msg.text()); });
await page.goto(url, { waitUntil: "domcontentloaded", timeout: 120000 });
await page.waitForTimeout(Number(waitS) * 1000);
for (let i = 0; i < Number(shots); i++) {
  if (i > 0) await page.waitForTimeout(Number(intervalS) * 1000);
  await page.screenshot({ path: `${prefix}_${i}.png`, timeout: 180000 });
  console.log(`saved ${prefix}_${i}.png`);
}
await context.close();
