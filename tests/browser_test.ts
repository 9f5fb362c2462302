/**
 * The dashboard in a real headless Chromium: the page gets itself an identity, you put
 * yourself on the map, a report posted through the API 250 m away appears on the live
 * map and in your feed, you can say it is gone, the report form works by clicking the
 * map, notes render as text, it fits a phone screen, and nothing breaks the CSP.
 * Screenshots go to tests/artifacts/ (git-ignored).
 */

import assert from "node:assert/strict";
import { destination } from "../domain/geo.ts";
import { newUser, report, startTestApp } from "./support/app.ts";
import { ARTIFACTS, launchBrowser } from "./support/browser.ts";

Deno.test({
  name: "browser: your feed and the map update live; the report form and the gone vote work",
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

      await page.goto(t.url);
      await page.locator('[data-status="live"]').waitFor({ timeout: 10_000 });
      const me = page.locator('[data-testid="me"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="me"]')?.getAttribute("data-user-id"));
      const myId = (await me.getAttribute("data-user-id"))!;
      assert.match(myId, /^u-/);
      await page.locator(`[data-testid="feed"][data-user-id="${myId}"]`).waitFor();

      // Put myself on the map where I click.
      const map = page.locator('[data-testid="map"]');
      const box = (await map.boundingBox())!;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      const picked = page.locator('[data-testid="picked"]').filter({ hasText: "At " });
      await picked.waitFor();
      const [lat, lng] = (await picked.innerText()).replace("At ", "").split(",").map(Number);
      await page.click('button:has-text("Put me at the picked spot")');
      await page.locator('.feed [role="status"]').filter({ hasText: "Location saved" }).waitFor();

      // Someone else reports 250 m away: it reaches my feed and the map, live.
      const other = await newUser(t.url);
      const res = await report(t.url, other, {
        type: "tow_truck",
        ...destination({ lat, lng }, 200, 250),
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

      // The popup: counts, the note as text, and my "it's gone" vote.
      await page.locator(`.leaflet-marker-icon[data-alert-id="${id}"]`).click();
      const popup = page.locator(".alert-popup");
      await popup.waitFor();
      assert.match(await popup.innerText(), /1 notified/);
      assert.equal(await popup.locator("b").count(), 0);
      await popup.locator("button.gone").click();
      await popup.filter({ hasText: "1 of 3 say it's gone" }).waitFor();
      await page.screenshot({ path: new URL("dashboard.png", ARTIFACTS).pathname });
      await page.keyboard.press("Escape");

      // The report form: click the map elsewhere, choose a type, send; the marker arrives live.
      await page.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.3);
      await page.selectOption('select[name="type"]', "parking_inspector");
      await page.fill('input[name="note"]', "from the form");
      await page.click('button:has-text("Send report")');
      await page.locator('.report [role="status"]').filter({ hasText: "Sent" }).waitFor();
      await page.locator(".alert-icon.type-parking_inspector").waitFor({ timeout: 10_000 });

      // Phone-sized screen: the map and the panels are all there and usable.
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await phone.goto(t.url);
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
