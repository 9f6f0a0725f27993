import assert from 'node:assert/strict';
import { openPage, screenshot, useFacilityDashboard } from '../support/browser';
import { nodeRedVersion } from '../support/node-red';

/**
 * The example "Facility dashboard" on a site with prices and a departure plan: CP-1 in mode
 * "price", an inject at deploy sends the load manager 24 hourly prices (0.30 €/kWh, 0.10 in the
 * third hour from now) and CP-1's plan (5 kWh within 6 h). The dashboard shows what the load
 * manager's summary says of it, and its form sends a new plan to the load manager. Three time
 * zones (issue 39): Node-RED runs in the test process's (UTC here), the browser in Berlin, the site
 * in New York; the reasons and the dashboard's figures give the site's hours.
 */
describe(`example "Facility dashboard" with prices and a plan, in a browser (Node-RED ${nodeRedVersion()})`, function () {
  this.timeout(60000);
  // The hour the prices start at: the one the flow is made in (the cheap one is the third).
  const hourMs = 3_600_000;
  const startMs = Math.floor(Date.now() / hourMs) * hourMs;
  const cheapHour = () => new Date(startMs + 2 * hourMs).toISOString();
  const siteZone = 'America/New_York';
  /** `HH:MM` on the site's clock. */
  const siteClock = (ms: number) =>
    new Intl.DateTimeFormat('en', {
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZone: siteZone,
    }).format(ms);
  const { nodeRed, page, errors } = useFacilityDashboard(
    (flow) => {
      const manager = flow.find((node) => node.type === 'ampflow-dlm');
      assert.ok(manager);
      // No sun: the plan takes grid energy whatever the time of day the test runs at.
      const meters = flow.find((node) => node.name === 'simulated meters');
      assert.ok(meters && /const sun = [^;]+;/.test(String(meters.func)));
      meters.func = String(meters.func).replace(/const sun = [^;]+;/, 'const sun = 0;');
      const site = JSON.parse(String(manager.site));
      site.connectors[0].mode = 'price';
      site.timeZone = siteZone;
      // A price car charges on PV too: the example's simulated inverter is the PV reading.
      site.pv = { inverterSource: 'pv-inverter' };
      manager.site = JSON.stringify(site);
      const z = manager.z;
      flow.push(
        {
          id: 'test-prices-at-deploy',
          type: 'inject',
          z,
          once: true,
          onceDelay: 0.5,
          wires: [['test-prices']],
        },
        {
          id: 'test-prices',
          type: 'function',
          z,
          func: `
const hour = 3600000;
const t = ${startMs};
const prices = Array.from({ length: 24 }, (_, i) => ({
  start: new Date(t + i * hour).toISOString(),
  end: new Date(t + (i + 1) * hour).toISOString(),
  price: i === 2 ? 0.1 : 0.3,
}));
return [[
  { topic: 'prices', payload: { currency: 'EUR', prices } },
  { topic: 'plan', payload: { chargePointId: 'CP-1', energyKWh: 5, departure: new Date(t + 6 * hour).toISOString() } },
]];`,
          outputs: 1,
          wires: [[manager.id]],
        },
      );
    },
    { height: 1200, timezoneId: 'Europe/Berlin' },
  );

  const plan = () => page().locator('.ampflow-plan[data-connector="CP-1/1"]');

  it("shows CP-1's plan in the load manager's words: energy, by when, waiting for the cheap hour at its price, the same hours in the words and the figures (the site's)", async () => {
    await plan()
      .locator('.ampflow-plan-words', { hasText: /^next: .* at 0\.10 €\/kWh, .* 5\.0 kWh planned/ })
      .waitFor();
    assert.equal(await plan().getAttribute('data-energy-wh'), '5000');
    assert.equal(await plan().getAttribute('data-charging'), 'false');
    const at = siteClock(Date.parse(cheapHour()));
    const by = siteClock(startMs + 6 * hourMs);
    const words = await plan().locator('.ampflow-plan-words').innerText();
    assert.ok(words.startsWith(`next: ${at} at 0.10 €/kWh`) && words.includes(` before ${by};`), words);
    const figures = await plan().locator('.ampflow-plan-figures').innerText();
    assert.ok(figures.includes(`5.0 kWh planned by ${by}`), figures);
    assert.ok(figures.includes(`waiting for ${at} at 0.10 €/kWh`), figures);
    // The other connector (mode fast) has no plan.
    assert.equal(await page().locator('.ampflow-plan[data-connector="CP-2/1"]').count(), 0);
  });

  it('shows the price curve of the next hours with the planned hour marked', async () => {
    const curve = page().locator('.ampflow-price-curve');
    await curve.waitFor();
    const slots = await page().$$eval('.ampflow-price-slot', (rects) =>
      rects.map((rect) => ({
        start: rect.getAttribute('data-start'),
        price: Number(rect.getAttribute('data-price')),
        planned: rect.getAttribute('data-planned'),
        height: Number(rect.getAttribute('height')),
      })),
    );
    assert.ok(slots.length >= 23 && slots.length <= 24, `${slots.length} slots`);
    const planned = slots.filter((slot) => slot.planned);
    assert.deepEqual(
      planned.map((slot) => [slot.start, slot.price, slot.planned]),
      [[cheapHour(), 0.1, 'CP-1/1']],
    );
    // The cheap hour's bar is lower than the others.
    assert.ok((planned[0]?.height ?? 0) < Math.max(...slots.map((slot) => slot.height)));
    assert.match(await curve.innerText(), /Price \(€\/kWh\), next hours/);
    await screenshot(page(), 'dashboard-prices');
    assert.deepEqual(errors(), []);
  });

  it('sends a plan set in the dashboard to the load manager: its summary then plans that energy by that time', async () => {
    // 12.5 kWh by the time the site's clock shows in 5 h (New York, the browser in Berlin).
    const at = new Date(Date.now() + 5 * hourMs);
    at.setSeconds(0, 0);
    const departure = { time: siteClock(at.getTime()), iso: at.toISOString() };
    const form = page().locator('.ampflow-plan-form');
    assert.equal(await form.locator('.ampflow-plan-connector').inputValue(), 'CP-1/1');
    await form.locator('.ampflow-plan-energy').fill('12.5');
    await form.locator('.ampflow-plan-departure').fill(departure.time);
    await form.getByRole('button', { name: 'Set plan' }).click();
    // The load manager's own summary says it: 12.5 kWh by that time.
    await page()
      .locator(`.ampflow-plan[data-connector="CP-1/1"][data-departure="${departure.iso}"]`)
      .waitFor();
    await plan()
      .locator('.ampflow-plan-words', { hasText: /12\.5 kWh planned/ })
      .waitFor();
    assert.equal(await plan().getAttribute('data-energy-wh'), '12500');
    assert.deepEqual(errors(), []);
    assert.deepEqual(nodeRed().problems(), []);
  });

  it('fits a phone: the plan, the curve and the form without the page overflowing sideways', async () => {
    await page().setViewportSize({ width: 390, height: 844 });
    await page().reload();
    await page().locator('.ampflow-price-slot.ampflow-planned').first().waitFor();
    await page().locator('.ampflow-plan-form').waitFor();
    const overflow = await page().evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than the phone`);
    await screenshot(page(), 'dashboard-prices-phone');
    assert.deepEqual(errors(), []);
  });

  it('reads German in a German browser', async () => {
    const browser = page().context().browser();
    assert.ok(browser);
    const { page: german, errors: germanErrors } = await openPage(browser, { height: 1200, locale: 'de-DE' });
    try {
      await german.goto(`${nodeRed().url}/dashboard`);
      await german
        .locator('.ampflow-prices .ampflow-title', { hasText: 'Preise und Abfahrtspläne' })
        .waitFor();
      const figures = german.locator('.ampflow-plan[data-connector="CP-1/1"] .ampflow-plan-figures');
      await figures.waitFor();
      assert.match(
        await figures.innerText(),
        /12,5 kWh geplant bis \d\d:\d\d ·\s+(wartet auf \d\d:\d\d zu 0,10 €\/kWh|lädt jetzt)/,
      );
      assert.match(
        await german.locator('.ampflow-price-curve').innerText(),
        /Preis \(€\/kWh\), nächste Stunden/,
      );
      await german.getByRole('button', { name: 'Plan setzen' }).waitFor();
      assert.deepEqual(germanErrors, []);
    } finally {
      await german.close();
    }
  });
});
