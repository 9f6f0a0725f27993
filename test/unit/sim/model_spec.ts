import assert from 'node:assert/strict';
import { ConfigurationStore } from '../../../sim/configuration';
import { SimulatedEv } from '../../../sim/ev';
import { parseMeasurandList, sampleMeter } from '../../../sim/metering';

describe('Simulator models', () => {
  describe('SimulatedEv', () => {
    it('draws min(offer, own maximum) on its phases, nothing below its minimum or when full', () => {
      const ev = new SimulatedEv({
        phases: 1,
        maxCurrentA: 16,
        minCurrentA: 8,
        capacityKWh: 10,
        socPercent: 99,
      });
      assert.deepEqual(ev.draw(32, 3), { currentA: 16, phases: 1 });
      assert.deepEqual(ev.draw(10, 3), { currentA: 10, phases: 1 });
      assert.deepEqual(ev.draw(7, 3), { currentA: 0, phases: 0 });
      assert.equal(ev.remainingWh, 100);
      ev.charge(250);
      assert.equal(ev.full, true);
      assert.equal(ev.socPercent, 100);
      assert.deepEqual(ev.draw(32, 3), { currentA: 0, phases: 0 });
    });

    it('stops at its target state of charge and rejects impossible cars', () => {
      const ev = new SimulatedEv({ capacityKWh: 50, socPercent: 70, targetSocPercent: 80 });
      assert.equal(ev.remainingWh, 5000);
      assert.throws(() => new SimulatedEv({ phases: 2 as 1 }), /phases/);
      assert.throws(() => new SimulatedEv({ minCurrentA: 20, maxCurrentA: 16 }), /minCurrentA/);
      assert.throws(() => new SimulatedEv({ socPercent: 120 }), /socPercent/);
      assert.throws(() => new SimulatedEv({ capacityKWh: 0 }), /capacityKWh/);
    });
  });

  describe('ConfigurationStore', () => {
    const facts = { connectorPhases: [3, 1] as (1 | 3)[], securityProfile: 0 };

    it('starts from the standard defaults: per-connector phase rotation, NumberOfConnectors', () => {
      const store = new ConfigurationStore(facts);
      assert.equal(store.get('ConnectorPhaseRotation'), '0.RST,1.RST,2.NotApplicable');
      assert.equal(store.get('numberofconnectors'), '2');
      assert.equal(store.int('MeterValueSampleInterval', 0), 60);
      assert.equal(store.bool('AuthorizeRemoteTxRequests', true), false);
      assert.deepEqual(store.csl('ChargingScheduleAllowedChargingRateUnit'), ['Current', 'Power']);
    });

    it('caps CSL keys at their MaxLength key and a missing MaxLength at one item (5.3)', () => {
      const store = new ConfigurationStore(facts, {
        MeterValuesSampledDataMaxLength: 2,
        MeterValuesAlignedDataMaxLength: null,
      });
      assert.equal(store.change('MeterValuesSampledData', 'Voltage,Current.Import'), 'Accepted');
      assert.equal(store.change('MeterValuesSampledData', 'Voltage,Current.Import,SoC'), 'Rejected');
      assert.equal(store.change('MeterValuesAlignedData', 'Voltage,SoC'), 'Rejected');
      assert.equal(store.change('MeterValuesAlignedData', 'Voltage'), 'Accepted');
      assert.equal(store.wouldAccept('HeartbeatInterval', '0'), false);
    });
  });

  describe('metering', () => {
    it('parses measurand lists with phases, quotes and blanks, and refuses unsupported ones', () => {
      assert.deepEqual(parseMeasurandList(' "Voltage.L2", Current.Import ,Energy.Active.Import.Register'), [
        { measurand: 'Voltage', phase: 'L2' },
        { measurand: 'Current.Import' },
        { measurand: 'Energy.Active.Import.Register' },
      ]);
      assert.deepEqual(parseMeasurandList(''), []);
      assert.equal(parseMeasurandList('Voltage,RPM'), undefined);
      assert.equal(parseMeasurandList('Voltage.L4'), undefined);
    });

    it('reports every wired phase of a phase-dependent measurand (3.16.3)', () => {
      const sample = sampleMeter(
        [
          { measurand: 'Current.Import' },
          { measurand: 'Power.Active.Import', phase: 'L2' },
          { measurand: 'SoC' },
        ],
        {
          energyWh: 1,
          voltageV: 230,
          currentA: [10, 12, 0],
          wiredPhases: ['L1', 'L2', 'L3'],
          offeredA: 16,
          offeredPhases: 3,
          temperatureC: 25,
          frequencyHz: 50,
        },
        'Trigger',
      );
      assert.deepEqual(
        sample.sampledValue.map((v) => [v.measurand, v.phase, v.value]),
        [
          ['Current.Import', 'L1', '10.0'],
          ['Current.Import', 'L2', '12.0'],
          ['Current.Import', 'L3', '0.0'],
          ['Power.Active.Import', 'L2', '2760'],
        ],
      );
      assert.equal(sample.deviates, false);
    });
  });
});
