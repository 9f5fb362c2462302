/**
 * The dashboard in a real headless Chromium: a report posted through the API appears on
 * the live map and in the watched user's feed; the report form works by clicking the
 * map; notes render as text; it fits a phone screen; the CSP is not violated. Screenshots
 * go to tests/artifacts/ (git-ignored).
 */

import assert from "node:assert/strict";
import { destination } from "../domain/geo.ts";
import { postJson, startTestApp } from "./support/app.ts";
import { ARTIFACTS, launchBrowser } from "./support/browser.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

Deno.test({
  name: "browser: reports appear on the map and in the feed, live; the form reports by clicking the map",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const t = await startTestApp();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("console", (m) => {
        // Tile requests fail on this offline machine; that is expected and handled.
        if (m.type() === "error" && !/ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|tile/.test(m.text())) {
          problems.push(`console: ${m.text()}`);
        }
      });

      await postJson(`${t.url}/api/locations`, { userId: "watcher", ...destination(TLV, 200, 250) });
      await page.goto(`${t.url}/?user=watcher`);
      await page.locator('[data-status="live"]').waitFor({ timeout: 10_000 });
      await page.locator('[data-testid="feed"][data-user-id="watcher"]').waitFor();

      const res = await postJson(`${t.url}/api/reports`, {
        type: "tow_truck",
        ...TLV,
        reporterId: "someone",
        note: "<b>towing</b> on the corner",
      });
      const { id } = await res.json();
      await page.locator(`.leaflet-marker-icon[data-alert-id="${id}"]`).waitFor({ timeout: 10_000 });
      const item = page.locator(`[data-testid="feed"] li[data-alert-id="${id}"]`);
      await item.waitFor({ timeout: 10_000 });
      assert.match(await item.innerText(), /Tow truck/);
      assert.match(await item.innerText(), /250 m away/);
      assert.match(await item.innerText(), /<b>towing<\/b> on the corner/, "the note is shown as text");
      assert.equal(await item.locator("b").count(), 0, "and never parsed as HTML");
      await page.locator(`.leaflet-marker-icon[data-alert-id="${id}"]`).click();
      const popup = page.locator(".alert-popup");
      await popup.waitFor();
      assert.match(await popup.innerText(), /1 notified/);
      assert.equal(await popup.locator("b").count(), 0);
      await page.screenshot({ path: new URL("dashboard.png", ARTIFACTS).pathname });

      // The report form: click the map, choose a type, send; the new marker arrives live.
      const before = await page.locator(".leaflet-marker-icon[data-alert-id]").count();
      const map = page.locator('[data-testid="map"]');
      const box = (await map.boundingBox())!;
      await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.6);
      await page.locator('[data-testid="picked"]').filter({ hasText: "At " }).waitFor();
      await page.selectOption('select[name="type"]', "parking_inspector");
      await page.fill('input[name="note"]', "from the form");
      await page.click('button:has-text("Send report")');
      await page.locator('.report [role="status"]').filter({ hasText: "Sent" }).waitFor();
      await page.waitForFunction(
        (n) => document.querySelectorAll(".leaflet-marker-icon[data-alert-id]").length > n,
        before,
        { timeout: 10_000 },
      );
      assert.equal(await page.locator(".alert-icon.type-parking_inspector").count(), 1);

      // Phone-sized screen: the map and the panels are all there and usable.
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await phone.goto(`${t.url}/?user=watcher`);
      await phone.locator(`.leaflet-marker-icon[data-alert-id="${id}"]`).waitFor({ timeout: 10_000 });
      const mapBox = (await phone.locator('[data-testid="map"]').boundingBox())!;
      assert.ok(mapBox.width <= 390 && mapBox.width > 300 && mapBox.height >= 300, JSON.stringify(mapBox));
      const bodyWidth = await phone.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(bodyWidth <= 390, `no horizontal scrolling (${bodyWidth}px)`);
      await phone.screenshot({ path: new URL("dashboard-phone.png", ARTIFACTS).pathname, fullPage: true });

      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await t.close();
    }
  },
});
