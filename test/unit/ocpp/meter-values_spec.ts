import assert from 'node:assert/strict';
import type { StopTransactionRequest } from '../../../lib/ocpp/messages';
import {
  type MeterValue,
  type MeterValuesParseResult,
  type ParsedSample,
  parseMeterValues,
  readMeterValues,
  type SampledValue,
} from '../../../lib/ocpp/meter-values';

const source = 'CP-1/1';
const receivedAt = '2024-05-01T12:00:30.000Z';

/**
 * parseMeterValues, checking in every case that readMeterValues (what the central system reads
 * MeterValues with: no list of samples) gives the very same Readings and warnings, the time of
 * the newest Reading, and the same again when it is handed the receive time in ms.
 */
function parse(meterValues: MeterValue[]): MeterValuesParseResult {
  const result = parseMeterValues(meterValues, { source, receivedAt });
  const newest = result.readings[result.readings.length - 1];
  const expected = {
    readings: result.readings,
    warnings: result.warnings,
    newestMs: newest && Date.parse(newest.timestamp),
  };
  assert.deepEqual(readMeterValues(meterValues, { source, receivedAt }), expected);
  const receivedMs = Date.parse(receivedAt);
  assert.deepEqual(readMeterValues(meterValues, { source, receivedAt, receivedMs }), expected);
  return result;
}

/** What a charger on the lenient switch may send: fields and types outside the schema. */
function lenient<T extends MeterValue[] | SampledValue[]>(values: unknown): T {
  return values as T;
}

/**
 * parse() of one meterValue, at 12:00:00Z, with these sampled values. The cases below are data:
 * sampled values, warnings and Readings written out one per case, alike in shape by nature.
 */
function parseAtNoon(sampledValue: SampledValue[]): MeterValuesParseResult {
  return parse([{ timestamp: '2024-05-01T12:00:00Z', sampledValue }]);
}

function sampleOf(result: MeterValuesParseResult, measurand: string, phase?: string): ParsedSample {
  const sample = result.samples.find((s) => s.measurand === measurand && s.phase === phase);
  assert.ok(sample, `no sample ${measurand} ${phase ?? ''}`);
  return sample;
}

describe('parseMeterValues', () => {
  describe('a three-phase charger', () => {
    it("turns a periodic sample into one Reading in base units, with the charger's context kept", () => {
      const result = parseAtNoon([
        {
          value: '12345.678',
          context: 'Sample.Periodic',
          measurand: 'Energy.Active.Import.Register',
          location: 'Outlet',
          unit: 'kWh',
        },
        { value: '15.9', measurand: 'Current.Import', phase: 'L1', location: 'Outlet', unit: 'A' },
        { value: '16.1', measurand: 'Current.Import', phase: 'L2', location: 'Outlet', unit: 'A' },
        { value: '15.7', measurand: 'Current.Import', phase: 'L3', location: 'Outlet', unit: 'A' },
        { value: '231.2', measurand: 'Voltage', phase: 'L1-N', location: 'Outlet', unit: 'V' },
        { value: '230.4', measurand: 'Voltage', phase: 'L2-N', location: 'Outlet', unit: 'V' },
        { value: '229.8', measurand: 'Voltage', phase: 'L3-N', location: 'Outlet', unit: 'V' },
        { value: '11020', measurand: 'Power.Active.Import', location: 'Outlet', unit: 'W' },
        { value: '16', measurand: 'Current.Offered', location: 'Outlet', unit: 'A' },
        { value: '54', measurand: 'SoC', location: 'EV', unit: 'Percent' },
      ]);

      assert.deepEqual(result.readings, [
        {
          source: 'CP-1/1',
          timestamp: '2024-05-01T12:00:00.000Z',
          currentA: [15.9, 16.1, 15.7],
          voltageV: [231.2, 230.4, 229.8],
          totalPowerW: 11020,
          importWh: 12345678,
          offeredCurrentA: 16,
          socPercent: 54,
        },
      ]);
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(result.signedValues, []);
      assert.equal(result.samples.length, 10);
      assert.deepEqual(sampleOf(result, 'Energy.Active.Import.Register'), {
        timestamp: '2024-05-01T12:00:00.000Z',
        measurand: 'Energy.Active.Import.Register',
        location: 'Outlet',
        context: 'Sample.Periodic',
        value: 12345678,
        unit: 'Wh',
      });
      assert.deepEqual(sampleOf(result, 'SoC'), {
        timestamp: '2024-05-01T12:00:00.000Z',
        measurand: 'SoC',
        location: 'EV',
        value: 54,
        unit: 'Percent',
      });
    });

    it('shows a single-phase car on L1 only; the phases it does not report stay null', () => {
      const result = parseAtNoon([
        { value: '15.8', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        { value: '3650', measurand: 'Power.Active.Import', phase: 'L1', unit: 'W' },
        { value: '232.0', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
      ]);

      const [reading] = result.readings;
      assert.deepEqual(reading?.currentA, [15.8, null, null]);
      assert.deepEqual(reading?.powerW, [3650, null, null]);
      assert.deepEqual(reading?.voltageV, [232, null, null]);
      assert.equal(reading?.totalPowerW, 3650, 'total power is the sum of the phases when no total is given');
    });

    it('keeps the zeros a charger reports on the phases the car leaves idle', () => {
      const result = parseAtNoon([
        { value: '0.0', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        { value: '15.8', measurand: 'Current.Import', phase: 'L2', unit: 'A' },
        { value: '0.0', measurand: 'Current.Import', phase: 'L3', unit: 'A' },
      ]);

      assert.deepEqual(result.readings[0]?.currentA, [0, 15.8, 0]);
    });

    it('sums phase power and phase energy registers when the charger gives no total', () => {
      const result = parseAtNoon([
        { value: '3.6', measurand: 'Power.Active.Import', phase: 'L1', unit: 'kW' },
        { value: '3.7', measurand: 'Power.Active.Import', phase: 'L2', unit: 'kW' },
        { value: '3.5', measurand: 'Power.Active.Import', phase: 'L3', unit: 'kW' },
        { value: '1000.5', measurand: 'Energy.Active.Import.Register', phase: 'L1', unit: 'kWh' },
        { value: '1001.5', measurand: 'Energy.Active.Import.Register', phase: 'L2', unit: 'kWh' },
        { value: '999', measurand: 'Energy.Active.Import.Register', phase: 'L3', unit: 'kWh' },
      ]);

      const [reading] = result.readings;
      assert.deepEqual(reading?.powerW, [3600, 3700, 3500]);
      assert.equal(reading?.totalPowerW, 10800);
      assert.equal(reading?.importWh, 3001000);
    });

    it('prefers the total the charger reports over the sum of its phases', () => {
      const result = parseAtNoon([
        { value: '3600', measurand: 'Power.Active.Import', phase: 'L1' },
        { value: '3700', measurand: 'Power.Active.Import', phase: 'L2' },
        { value: '7290', measurand: 'Power.Active.Import' },
        { value: '5000', measurand: 'Energy.Active.Import.Register', phase: 'L1' },
        { value: '15000', measurand: 'Energy.Active.Import.Register' },
      ]);

      assert.equal(result.readings[0]?.totalPowerW, 7290);
      assert.equal(result.readings[0]?.importWh, 15000);
    });
  });

  describe('phases', () => {
    it('puts a current without a phase into currentUnphasedA, not currentA', () => {
      const result = parseAtNoon([{ value: '13.2', measurand: 'Current.Import', unit: 'A' }]);

      assert.deepEqual(result.readings, [
        { source: 'CP-1/1', timestamp: '2024-05-01T12:00:00.000Z', currentUnphasedA: 13.2 },
      ]);
    });

    it('maps L1, L2, L3 voltages like L1-N, L2-N, L3-N', () => {
      const result = parseAtNoon([
        { value: '230', measurand: 'Voltage', phase: 'L1' },
        { value: '231', measurand: 'Voltage', phase: 'L2' },
        { value: '232', measurand: 'Voltage', phase: 'L3' },
      ]);

      assert.deepEqual(result.readings[0]?.voltageV, [230, 231, 232]);
    });

    it('keeps line-to-line voltages and the neutral current in samples only', () => {
      const result = parseAtNoon([
        { value: '400.1', measurand: 'Voltage', phase: 'L1-L2', unit: 'V' },
        { value: '399.5', measurand: 'Voltage', phase: 'L2-L3', unit: 'V' },
        { value: '400.9', measurand: 'Voltage', phase: 'L3-L1', unit: 'V' },
        { value: '0.4', measurand: 'Current.Import', phase: 'N', unit: 'A' },
      ]);

      assert.deepEqual(result.readings, []);
      assert.equal(result.samples.length, 4);
      assert.equal(sampleOf(result, 'Voltage', 'L1-L2').value, 400.1);
      assert.equal(sampleOf(result, 'Current.Import', 'N').value, 0.4);
      assert.deepEqual(result.warnings, []);
    });

    it('takes the first value when a phase is reported twice (L1 and L1-N, or two locations)', () => {
      const result = parseAtNoon([
        { value: '230', measurand: 'Voltage', phase: 'L1-N', location: 'Outlet' },
        { value: '229', measurand: 'Voltage', phase: 'L1', location: 'Inlet' },
      ]);

      assert.deepEqual(result.readings[0]?.voltageV, [230, null, null]);
      assert.equal(result.samples.length, 2);
    });
  });

  describe('defaults', () => {
    it('reads a bare value as an active import energy register in Wh (spec 4.7)', () => {
      const result = parseAtNoon([{ value: '1500' }]);

      assert.deepEqual(result.samples, [
        {
          timestamp: '2024-05-01T12:00:00.000Z',
          measurand: 'Energy.Active.Import.Register',
          value: 1500,
          unit: 'Wh',
        },
      ]);
      assert.deepEqual(result.readings, [
        { source: 'CP-1/1', timestamp: '2024-05-01T12:00:00.000Z', importWh: 1500 },
      ]);
      assert.deepEqual(result.warnings, []);
    });

    it('gives every other measurand its natural unit when the unit is absent, so a bare power is W, not Wh', () => {
      const result = parseAtNoon([
        { value: '11000', measurand: 'Power.Active.Import' },
        { value: '16', measurand: 'Current.Import', phase: 'L1' },
        { value: '230', measurand: 'Voltage', phase: 'L1-N' },
        { value: '80', measurand: 'SoC' },
        { value: '50.02', measurand: 'Frequency' },
        { value: '31.5', measurand: 'Temperature' },
        { value: '120', measurand: 'Power.Reactive.Import' },
        { value: '900', measurand: 'Energy.Reactive.Import.Register' },
        { value: '0.98', measurand: 'Power.Factor' },
        { value: '1200', measurand: 'RPM' },
      ]);

      assert.deepEqual(
        result.samples.map((sample) => `${sample.measurand}=${sample.value} ${sample.unit}`),
        [
          'Power.Active.Import=11000 W',
          'Current.Import=16 A',
          'Voltage=230 V',
          'SoC=80 Percent',
          'Frequency=50.02 Hz',
          'Temperature=31.5 Celsius',
          'Power.Reactive.Import=120 var',
          'Energy.Reactive.Import.Register=900 varh',
          'Power.Factor=0.98 Ratio',
          'RPM=1200 RPM',
        ],
      );
      assert.deepEqual(result.readings, [
        {
          source: 'CP-1/1',
          timestamp: '2024-05-01T12:00:00.000Z',
          currentA: [16, null, null],
          voltageV: [230, null, null],
          totalPowerW: 11000,
          frequencyHz: 50.02,
          socPercent: 80,
          powerFactor: 0.98,
          reactivePowerVar: 120,
          temperatureC: 31.5,
        },
      ]);
      assert.deepEqual(result.warnings, []);
    });

    it('treats null in an optional field as absent (some chargers serialise every field)', () => {
      const result = parseAtNoon(
        lenient([
          {
            value: '2100',
            measurand: null,
            phase: null,
            location: null,
            context: null,
            format: null,
            unit: null,
          },
        ]),
      );

      assert.deepEqual(result.readings[0]?.importWh, 2100);
      assert.deepEqual(result.warnings, []);
    });
  });

  describe('units', () => {
    it('scales kW, kWh, kvar and kvarh by 1000', () => {
      const result = parseAtNoon([
        { value: '7.4', measurand: 'Power.Active.Import', unit: 'kW' },
        { value: '10.25', measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
        { value: '0.35', measurand: 'Power.Reactive.Import', unit: 'kvar' },
        { value: '2.5', measurand: 'Energy.Reactive.Import.Register', unit: 'kvarh' },
        { value: '11', measurand: 'Power.Offered', unit: 'kW' },
      ]);

      assert.deepEqual(
        result.samples.map((sample) => [sample.value, sample.unit]),
        [
          [7400, 'W'],
          [10250, 'Wh'],
          [350, 'var'],
          [2500, 'varh'],
          [11000, 'W'],
        ],
      );
      assert.equal(result.readings[0]?.offeredPowerW, 11000);
      assert.deepEqual(result.warnings, []);
    });

    it('understands VA and kVA but skips them, since no OCPP 1.6 measurand is apparent power', () => {
      const result = parseAtNoon([{ value: '7.5', measurand: 'Power.Active.Import', unit: 'kVA' }]);

      assert.deepEqual(result.samples, []);
      assert.deepEqual(result.warnings, [
        "Power.Active.Import: unit 'kVA' does not fit the measurand (expected W); skipped",
      ]);
    });

    it('reads Celsius, the schema spelling Celcius, Fahrenheit and K as degrees Celsius', () => {
      const result = parseAtNoon([
        { value: '41.5', measurand: 'Temperature', location: 'Body', unit: 'Celcius' },
        { value: '38', measurand: 'Temperature', location: 'Outlet', unit: 'Celsius' },
        { value: '77', measurand: 'Temperature', location: 'Cable', unit: 'Fahrenheit' },
        { value: '298.15', measurand: 'Temperature', location: 'EV', unit: 'K' },
      ]);

      const temperatures = result.samples.map((sample) => [sample.location, sample.value, sample.unit]);
      assert.deepEqual(temperatures.slice(0, 3), [
        ['Body', 41.5, 'Celsius'],
        ['Outlet', 38, 'Celsius'],
        ['Cable', 25, 'Celsius'],
      ]);
      const [, kelvinInCelsius] = temperatures[3] ?? [];
      assert.ok(Math.abs(Number(kelvinInCelsius) - 25) < 1e-9, `298.15 K read as ${kelvinInCelsius} °C`);
      assert.equal(result.readings[0]?.temperatureC, 41.5, 'the first temperature goes into the Reading');
      assert.deepEqual(result.warnings, []);
    });

    it('accepts the unit Hz for Frequency, which OCPP 1.6 lacks, with a warning', () => {
      const result = parseAtNoon(lenient([{ value: '49.98', measurand: 'Frequency', unit: 'Hz' }]));

      assert.equal(result.readings[0]?.frequencyHz, 49.98);
      assert.deepEqual(sampleOf(result, 'Frequency').unit, 'Hz');
      assert.deepEqual(result.warnings, ["Frequency: unit 'Hz' is not an OCPP 1.6 unit; accepted"]);
    });

    it('skips a value whose unit does not fit its measurand, or is unknown', () => {
      const result = parseAtNoon(
        lenient([
          { value: '3680', measurand: 'Current.Import', phase: 'L1', unit: 'W' },
          { value: '16', measurand: 'Current.Offered', unit: 'mA' },
          { value: '50', measurand: 'Frequency', unit: 'Percent' },
          { value: '12', measurand: 'Energy.Active.Import.Register', unit: 'kwh' },
        ]),
      );

      assert.deepEqual(result.samples, []);
      assert.deepEqual(result.readings, []);
      assert.deepEqual(result.warnings, [
        "Current.Import L1: unit 'W' does not fit the measurand (expected A); skipped",
        "Current.Offered: unknown unit 'mA'; value skipped",
        "Frequency: unit 'Percent' does not fit the measurand (expected Hz); skipped",
        "Energy.Active.Import.Register: unknown unit 'kwh'; value skipped",
      ]);
    });
  });

  describe('values', () => {
    it('tolerates surrounding whitespace, signs, fractions and exponents', () => {
      const result = parseAtNoon([
        { value: ' 230.1 ', measurand: 'Voltage', phase: 'L1-N' },
        { value: '-1.5', measurand: 'Current.Import', phase: 'L2' },
        { value: '.5', measurand: 'Current.Import', phase: 'L3' },
        { value: '1.2345678E7', measurand: 'Energy.Active.Import.Register' },
      ]);

      assert.deepEqual(
        result.samples.map((sample) => sample.value),
        [230.1, -1.5, 0.5, 12345678],
      );
      assert.deepEqual(result.warnings, []);
    });

    it('skips a value with a decimal comma or that is no number, and says which measurand', () => {
      const result = parseAtNoon([
        { value: '230,5', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
        { value: 'n/a', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        { value: '', measurand: 'SoC', unit: 'Percent' },
        { value: 'NaN', measurand: 'Power.Active.Import', unit: 'W' },
        { value: '0x10', measurand: 'Current.Offered', unit: 'A' },
        { value: '1e999', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '16', measurand: 'Current.Import', phase: 'L2', unit: 'A' },
      ]);

      assert.deepEqual(result.readings, [
        { source: 'CP-1/1', timestamp: '2024-05-01T12:00:00.000Z', currentA: [null, 16, null] },
      ]);
      assert.deepEqual(result.warnings, [
        "Voltage L1-N: value '230,5' has a decimal comma, OCPP requires a point; skipped",
        "Current.Import L1: value 'n/a' is not a decimal number; skipped",
        "SoC: value '' is not a decimal number; skipped",
        "Power.Active.Import: value 'NaN' is not a decimal number; skipped",
        "Current.Offered: value '0x10' is not a decimal number; skipped",
        "Energy.Active.Import.Register: value '1e999' is not a decimal number; skipped",
      ]);
    });

    it('accepts a JSON number where a string belongs, with a warning, and skips a missing value', () => {
      const result = parseAtNoon(
        lenient([
          { value: 16.5, measurand: 'Current.Import', phase: 'L1' },
          { measurand: 'Current.Import', phase: 'L2' },
        ]),
      );

      assert.deepEqual(result.readings[0]?.currentA, [16.5, null, null]);
      assert.deepEqual(result.warnings, [
        'Current.Import L1: value 16.5 is a JSON number, not a string; accepted',
        'Current.Import L2: value is missing or not a string; skipped',
      ]);
    });

    it('skips unknown measurands and phases; drops an unknown location or context but keeps the value', () => {
      const result = parseAtNoon(
        lenient([
          { value: '12', measurand: 'Current.Active.Import' },
          { value: '12', measurand: 'Current.Import', phase: 'L4' },
          { value: '230', measurand: 'Voltage', phase: 'L1-N', location: 'Socket', context: 'Periodic' },
        ]),
      );

      assert.deepEqual(result.samples, [
        { timestamp: '2024-05-01T12:00:00.000Z', measurand: 'Voltage', phase: 'L1-N', value: 230, unit: 'V' },
      ]);
      assert.deepEqual(result.warnings, [
        "unknown measurand 'Current.Active.Import'; value skipped",
        "Current.Import: unknown phase 'L4'; value skipped",
        "Voltage L1-N: unknown location 'Socket'; ignored",
        "Voltage L1-N: unknown context 'Periodic'; ignored",
      ]);
    });

    it('reads an unknown format as Raw, with a warning', () => {
      const result = parseAtNoon(lenient([{ value: '42', format: 'raw' }]));

      assert.equal(result.readings[0]?.importWh, 42);
      assert.deepEqual(result.warnings, ["Energy.Active.Import.Register: unknown format 'raw'; read as Raw"]);
    });

    it('reports a warning that repeats within one message once', () => {
      const result = parse(
        lenient(
          ['12:00:00', '12:00:10', '12:00:20'].map((time) => ({
            timestamp: `2024-05-01T${time}Z`,
            sampledValue: [{ value: '50', measurand: 'Frequency', unit: 'Hz' }],
          })),
        ),
      );

      assert.equal(result.readings.length, 3);
      assert.deepEqual(result.warnings, ["Frequency: unit 'Hz' is not an OCPP 1.6 unit; accepted"]);
    });
  });

  describe('signed meter data', () => {
    it('keeps SignedData values apart, as received, without a warning', () => {
      const signedData = '0A1B2C3D4E5F60718293A4B5C6D7E8F9';
      const result = parse([
        {
          timestamp: '2024-05-01T12:00:00Z',
          sampledValue: [
            { value: '12345678', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            {
              value: signedData,
              format: 'SignedData',
              measurand: 'Energy.Active.Import.Register',
              context: 'Sample.Clock',
              location: 'Outlet',
              unit: 'Wh',
            },
          ],
        },
        {
          timestamp: '2024-05-01T12:15:00Z',
          sampledValue: [{ value: 'FFEE', format: 'SignedData', context: 'Sample.Clock' }],
        },
      ]);

      assert.deepEqual(result.signedValues, [
        {
          timestamp: '2024-05-01T12:00:00.000Z',
          measurand: 'Energy.Active.Import.Register',
          location: 'Outlet',
          context: 'Sample.Clock',
          signedData,
        },
        {
          timestamp: '2024-05-01T12:15:00.000Z',
          measurand: 'Energy.Active.Import.Register',
          context: 'Sample.Clock',
          signedData: 'FFEE',
        },
      ]);
      assert.equal(result.samples.length, 1);
      assert.deepEqual(result.readings, [
        { source: 'CP-1/1', timestamp: '2024-05-01T12:00:00.000Z', importWh: 12345678 },
      ]);
      assert.deepEqual(result.warnings, []);
    });

    it('skips signed data that is not a string, with a warning', () => {
      const result = parseAtNoon(
        lenient([
          { value: { blob: 'FFEE' }, format: 'SignedData', measurand: 'Energy.Active.Import.Register' },
        ]),
      );

      assert.deepEqual(result.signedValues, []);
      assert.deepEqual(result.warnings, [
        'Energy.Active.Import.Register: signed data is not a string; skipped',
      ]);
    });
  });

  describe('timestamps', () => {
    it('merges entries with the same instant into one Reading and sorts Readings oldest first', () => {
      const result = parse([
        {
          timestamp: '2024-05-01T12:01:00Z',
          sampledValue: [{ value: '16.0', measurand: 'Current.Import', phase: 'L1' }],
        },
        {
          timestamp: '2024-05-01T12:00:00Z',
          sampledValue: [{ value: '15.0', measurand: 'Current.Import', phase: 'L1' }],
        },
        {
          // The same instant as the entry before, written with an offset and fractional seconds.
          timestamp: '2024-05-01T14:00:00.000+02:00',
          sampledValue: [
            { value: '15.1', measurand: 'Current.Import', phase: 'L2' },
            { value: '10000', measurand: 'Energy.Active.Import.Register' },
          ],
        },
      ]);

      assert.deepEqual(result.readings, [
        {
          source: 'CP-1/1',
          timestamp: '2024-05-01T12:00:00.000Z',
          currentA: [15, 15.1, null],
          importWh: 10000,
        },
        { source: 'CP-1/1', timestamp: '2024-05-01T12:01:00.000Z', currentA: [16, null, null] },
      ]);
      assert.deepEqual(
        result.samples.map((sample) => `${sample.timestamp} ${sample.measurand} ${sample.value}`),
        [
          '2024-05-01T12:00:00.000Z Current.Import 15',
          '2024-05-01T12:00:00.000Z Current.Import 15.1',
          '2024-05-01T12:00:00.000Z Energy.Active.Import.Register 10000',
          '2024-05-01T12:01:00.000Z Current.Import 16',
        ],
      );
      assert.deepEqual(result.warnings, []);
    });

    it('fills a missing or unreadable timestamp with the receive time, with a warning', () => {
      const result = parse(
        lenient([
          { sampledValue: [{ value: '16', measurand: 'Current.Import', phase: 'L1' }] },
          { timestamp: 'yesterday', sampledValue: [{ value: '230', measurand: 'Voltage', phase: 'L1-N' }] },
          { timestamp: '2024-13-01T12:00:00Z', sampledValue: [{ value: '20000' }] },
        ]),
      );

      assert.deepEqual(result.readings, [
        {
          source: 'CP-1/1',
          timestamp: receivedAt,
          currentA: [16, null, null],
          voltageV: [230, null, null],
          importWh: 20000,
        },
      ]);
      assert.deepEqual(result.warnings, [
        'meterValue[0] has no timestamp; used the receive time 2024-05-01T12:00:30.000Z',
        "meterValue[1] timestamp 'yesterday' is not an ISO 8601 date and time; used the receive time 2024-05-01T12:00:30.000Z",
        "meterValue[2] timestamp '2024-13-01T12:00:00Z' is not an ISO 8601 date and time; used the receive time 2024-05-01T12:00:30.000Z",
      ]);
    });

    it('reads a timestamp without a time zone as UTC, with a warning, whatever the local zone', () => {
      const result = parse([{ timestamp: '2024-05-01T12:00:00', sampledValue: [{ value: '20000' }] }]);

      assert.equal(result.readings[0]?.timestamp, '2024-05-01T12:00:00.000Z');
      assert.deepEqual(result.warnings, [
        "meterValue[0] timestamp '2024-05-01T12:00:00' has no time zone; read as UTC",
      ]);
    });

    it('emits no Reading for an instant whose values fill no Reading field', () => {
      const result = parseAtNoon([
        { value: '250', measurand: 'Energy.Active.Import.Interval', context: 'Sample.Clock', unit: 'Wh' },
        { value: '230', measurand: 'Voltage' },
      ]);

      assert.deepEqual(result.readings, []);
      assert.equal(result.samples.length, 2);
    });
  });

  describe('export and the sign convention', () => {
    it('subtracts export from import, so a vehicle feeding back shows negative current and power', () => {
      const result = parseAtNoon([
        { value: '10.0', measurand: 'Current.Export', phase: 'L1', unit: 'A' },
        { value: '9.5', measurand: 'Current.Export', phase: 'L2', unit: 'A' },
        { value: '2.3', measurand: 'Power.Active.Export', phase: 'L1', unit: 'kW' },
        { value: '4.5', measurand: 'Power.Active.Export', unit: 'kW' },
        { value: '0.5', measurand: 'Power.Active.Import', unit: 'kW' },
        { value: '3.2', measurand: 'Current.Export', unit: 'A' },
        { value: '200', measurand: 'Power.Reactive.Import', unit: 'var' },
        { value: '0.5', measurand: 'Power.Reactive.Export', unit: 'kvar' },
        { value: '4200', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '1.75', measurand: 'Energy.Active.Export.Register', unit: 'kWh' },
      ]);

      assert.deepEqual(result.readings, [
        {
          source: 'CP-1/1',
          timestamp: '2024-05-01T12:00:00.000Z',
          currentA: [-10, -9.5, null],
          currentUnphasedA: -3.2,
          powerW: [-2300, null, null],
          totalPowerW: -4000,
          importWh: 4200,
          exportWh: 1750,
          reactivePowerVar: -300,
        },
      ]);
    });

    it('nets import and export on the same phase', () => {
      const result = parseAtNoon([
        { value: '6.0', measurand: 'Current.Import', phase: 'L1' },
        { value: '1.5', measurand: 'Current.Export', phase: 'L1' },
        { value: '6.0', measurand: 'Current.Import', phase: 'L2' },
      ]);

      assert.deepEqual(result.readings[0]?.currentA, [4.5, 6, null]);
    });
  });

  describe('offered current and power', () => {
    it('takes the highest phase when the charger reports Current.Offered per phase', () => {
      const result = parseAtNoon([
        { value: '16', measurand: 'Current.Offered', phase: 'L1', unit: 'A' },
        { value: '0', measurand: 'Current.Offered', phase: 'L2', unit: 'A' },
        { value: '0', measurand: 'Current.Offered', phase: 'L3', unit: 'A' },
        { value: '3680', measurand: 'Power.Offered', unit: 'W' },
      ]);

      assert.equal(result.readings[0]?.offeredCurrentA, 16);
      assert.equal(result.readings[0]?.offeredPowerW, 3680);
    });
  });

  describe('StopTransaction transactionData', () => {
    it('reads the Transaction.Begin and Transaction.End values as two Readings', () => {
      const stop: StopTransactionRequest = {
        transactionId: 42,
        idTag: 'ABC123',
        meterStop: 18750,
        timestamp: '2024-05-01T14:30:05Z',
        reason: 'EVDisconnected',
        transactionData: [
          {
            timestamp: '2024-05-01T14:30:05Z',
            sampledValue: [
              {
                value: '18.750',
                context: 'Transaction.End',
                measurand: 'Energy.Active.Import.Register',
                unit: 'kWh',
              },
              { value: '81', context: 'Transaction.End', measurand: 'SoC', location: 'EV', unit: 'Percent' },
            ],
          },
          {
            timestamp: '2024-05-01T12:02:11Z',
            sampledValue: [
              {
                value: '4.210',
                context: 'Transaction.Begin',
                measurand: 'Energy.Active.Import.Register',
                unit: 'kWh',
              },
              {
                value: '23',
                context: 'Transaction.Begin',
                measurand: 'SoC',
                location: 'EV',
                unit: 'Percent',
              },
            ],
          },
        ],
      };

      const result = parse(stop.transactionData ?? []);

      assert.deepEqual(result.readings, [
        { source: 'CP-1/1', timestamp: '2024-05-01T12:02:11.000Z', importWh: 4210, socPercent: 23 },
        { source: 'CP-1/1', timestamp: '2024-05-01T14:30:05.000Z', importWh: 18750, socPercent: 81 },
      ]);
      assert.deepEqual(
        result.samples.map((sample) => `${sample.context} ${sample.measurand}`),
        [
          'Transaction.Begin Energy.Active.Import.Register',
          'Transaction.Begin SoC',
          'Transaction.End Energy.Active.Import.Register',
          'Transaction.End SoC',
        ],
      );
      assert.deepEqual(result.warnings, []);
    });
  });

  describe('malformed messages', () => {
    it('warns and carries on when entries or their sampled values are not objects', () => {
      const result = parse(
        lenient([
          null,
          { timestamp: '2024-05-01T12:00:00Z' },
          { timestamp: '2024-05-01T12:00:00Z', sampledValue: ['16', { value: '7' }] },
        ]),
      );

      assert.deepEqual(result.readings, [
        { source: 'CP-1/1', timestamp: '2024-05-01T12:00:00.000Z', importWh: 7 },
      ]);
      assert.deepEqual(result.warnings, [
        'meterValue[0] is not an object; skipped',
        'meterValue[1] has no sampledValue list; skipped',
        'meterValue[2] has a sampledValue that is not an object; skipped',
      ]);
    });

    it('returns nothing but a warning when meterValue is not a list', () => {
      const result = parse(lenient({ timestamp: '2024-05-01T12:00:00Z' }));

      assert.deepEqual(result, {
        readings: [],
        samples: [],
        signedValues: [],
        warnings: ['meterValue is not a list; nothing to read'],
      });
    });

    it("throws for an unreadable receivedAt, which is the caller's mistake, not the charger's", () => {
      assert.throws(
        () => parseMeterValues([], { source, receivedAt: 'now' }),
        (error: unknown) => error instanceof RangeError && /receivedAt 'now'/.test(error.message),
      );
    });
  });

  it('is deterministic: the same input gives the same result, and the input is left as it was', () => {
    const meterValues: MeterValue[] = [
      { timestamp: '2024-05-01T12:01:00Z', sampledValue: [{ value: '2', unit: 'kWh' }] },
      { timestamp: '2024-05-01T12:00:00Z', sampledValue: [{ value: '1', unit: 'kWh' }] },
    ];
    const copy = structuredClone(meterValues);

    assert.deepEqual(parse(meterValues), parse(meterValues));
    assert.deepEqual(meterValues, copy);
  });
});
