import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { vehicle, type VehicleState } from '../../../scenarios/envs/vehicle.js';
import {
  applyAll,
  applyError,
  applyOk,
  argsOf,
  call,
  contractProperties,
  type Call,
} from './harness.js';

const DOORS = ['driver', 'passenger', 'rear_left', 'rear_right'] as const;
const allLocked = {
  driver: 'locked',
  passenger: 'locked',
  rear_left: 'locked',
  rear_right: 'locked',
} as const;

/** Parked, ready to start, or already driving: the states a scenario would start from. */
const stateArb: fc.Arbitrary<VehicleState> = fc
  .record({
    kind: fc.constantFrom('parked', 'ready', 'driving'),
    fuel: fc.constantFrom(0, 5, 49.5),
    speed: fc.constantFrom(30, 80),
  })
  .map(({ kind, fuel, speed }) => {
    const parked = { ...vehicle.emptyState, fuelGallons: fuel };
    if (kind === 'parked') return parked;
    const ready = {
      ...parked,
      doors: allLocked,
      brakePedal: 'pressed' as const,
      parkingBrake: 'released' as const,
    };
    if (kind === 'ready') return ready;
    return {
      ...ready,
      fuelGallons: Math.max(fuel, 5),
      engine: 'running' as const,
      brakePedal: 'released' as const,
      gear: 'D' as const,
      speedKph: speed,
    };
  });

const callArb: fc.Arbitrary<Call> = fc.oneof(
  call('get_vehicle_status'),
  {
    arbitrary: call('lock_doors', argsOf({ doors: fc.subarray([...DOORS], { minLength: 1 }) })),
    weight: 3,
  },
  call('unlock_doors', argsOf({ doors: fc.subarray([...DOORS], { minLength: 1 }) })),
  { arbitrary: call('press_brake_pedal'), weight: 2 },
  { arbitrary: call('release_brake_pedal'), weight: 2 },
  { arbitrary: call('start_engine'), weight: 2 },
  call('stop_engine'),
  call('fill_fuel_tank', argsOf({ gallons: fc.constantFrom(0.5, 10, 45) })),
  {
    arbitrary: call('shift_gear', argsOf({ gear: fc.constantFrom('P', 'R', 'N', 'D') })),
    weight: 2,
  },
  {
    arbitrary: call('set_speed', argsOf({ speedKph: fc.constantFrom(0, 15, 50, 120) })),
    weight: 2,
  },
  call(
    'set_cruise_control',
    argsOf({ activate: fc.boolean(), speedKph: fc.constantFrom(30, 65, 100) }, ['activate']),
  ),
  { arbitrary: call('set_parking_brake', argsOf({ engage: fc.boolean() })), weight: 2 },
  call(
    'adjust_climate_control',
    argsOf(
      {
        temperature: fc.constantFrom(10, 21.5, 70, 90),
        unit: fc.constantFrom('celsius', 'fahrenheit'),
        fanSpeed: fc.integer({ min: 0, max: 100 }),
        mode: fc.constantFrom('auto', 'heat'),
      },
      ['temperature'],
    ),
  ),
  call('estimate_drive_feasibility', argsOf({ distanceMiles: fc.constantFrom(0, 100, 5000) })),
);

/** Speed 0 with the engine off; moving only in gear, brakes off, doors locked; fuel in the tank. */
function invariant(s: VehicleState): string | null {
  if (s.engine === 'stopped' && s.speedKph !== 0) return `engine off at ${s.speedKph} kph`;
  if (s.engine === 'stopped' && s.cruiseSpeedKph !== null) return 'cruise control with engine off';
  if (s.speedKph > 0 && s.brakePedal === 'pressed') return 'moving with the brake pressed';
  if (s.speedKph > 0 && s.parkingBrake === 'engaged') return 'moving with the parking brake on';
  if (s.speedKph > 0 && !['D', 'R'].includes(s.gear)) return `moving in ${s.gear}`;
  if (s.speedKph > 0 && DOORS.some((d) => s.doors[d] !== 'locked')) return 'moving, door unlocked';
  if (s.fuelGallons < 0 || s.fuelGallons > s.tankCapacityGallons) return `fuel ${s.fuelGallons}`;
  return null;
}

describe('vehicle environment: properties', () => {
  contractProperties({ env: vehicle, initial: stateArb, call: callArb, invariant, numRuns: 2000 });
});

/** Locked, brake pressed, parking brake released, engine off in P. */
const ready: VehicleState = {
  ...vehicle.emptyState,
  doors: allLocked,
  brakePedal: 'pressed',
  parkingBrake: 'released',
};
const driving = applyAll(vehicle, ready, [
  ['start_engine'],
  ['shift_gear', { gear: 'D' }],
  ['release_brake_pedal'],
  ['set_speed', { speedKph: 60 }],
]);

describe('vehicle environment: operations', () => {
  it('reads the whole status', () => {
    expect(applyOk(vehicle, driving, 'get_vehicle_status').result).toEqual({
      engine: 'running',
      fuelGallons: 10,
      batteryVolts: 12.6,
      doors: allLocked,
      brakePedal: 'released',
      parkingBrake: 'released',
      gear: 'D',
      speedKph: 60,
      cruiseControl: 'off',
      climate: { temperatureC: 22, fanSpeed: 50, mode: 'auto' },
    });
  });

  it('locks and unlocks doors, never unlocking while moving', () => {
    const { state, result } = applyOk(vehicle, vehicle.emptyState, 'lock_doors', {
      doors: ['driver', 'passenger'],
    });
    expect(result).toMatchObject({ unlockedDoors: 2 });
    expect(state.doors.driver).toBe('locked');
    const back = applyOk(vehicle, state, 'unlock_doors', { doors: ['driver'] }).state;
    expect(back.doors.driver).toBe('unlocked');
    expect(applyError(vehicle, driving, 'unlock_doors', { doors: ['driver'] })).toBe(
      'cannot unlock doors while moving',
    );
  });

  it('starts the engine only when locked, braked and fuelled, and not twice', () => {
    expect(applyOk(vehicle, ready, 'start_engine').result).toEqual({
      engine: 'running',
      fuelGallons: 10,
    });
    expect(
      applyError(
        vehicle,
        { ...ready, doors: { ...allLocked, rear_left: 'unlocked' } },
        'start_engine',
      ),
    ).toBe('lock every door before starting the engine: unlocked: rear_left');
    expect(applyError(vehicle, { ...ready, brakePedal: 'released' }, 'start_engine')).toBe(
      'press the brake pedal before starting the engine',
    );
    expect(applyError(vehicle, { ...ready, fuelGallons: 0 }, 'start_engine')).toBe(
      'the fuel tank is empty',
    );
    expect(applyError(vehicle, driving, 'start_engine')).toBe('the engine is already running');
  });

  it('stops the engine only standing still in P', () => {
    expect(applyError(vehicle, ready, 'stop_engine')).toBe('the engine is not running');
    expect(applyError(vehicle, driving, 'stop_engine')).toBe(
      'stop the vehicle before stopping the engine',
    );
    const stopped = applyOk(vehicle, driving, 'press_brake_pedal').state;
    expect(applyError(vehicle, stopped, 'stop_engine')).toBe(
      'shift to P before stopping the engine',
    );
    const parked = applyAll(vehicle, stopped, [['shift_gear', { gear: 'P' }], ['stop_engine']]);
    expect(parked.engine).toBe('stopped');
  });

  it('pressing the brake stops the car and turns cruise control off', () => {
    const cruising = applyOk(vehicle, driving, 'set_cruise_control', {
      activate: true,
      speedKph: 100,
    });
    const { state, result } = applyOk(vehicle, cruising.state, 'press_brake_pedal');
    expect(result).toEqual({ brakePedal: 'pressed', speedKph: 0 });
    expect(state).toMatchObject({ speedKph: 0, cruiseSpeedKph: null, brakePedal: 'pressed' });
    expect(applyOk(vehicle, state, 'release_brake_pedal').state.brakePedal).toBe('released');
  });

  it('refuels only with the engine stopped and never above capacity', () => {
    expect(applyOk(vehicle, ready, 'fill_fuel_tank', { gallons: 40 }).result).toEqual({
      fuelGallons: 50,
    });
    expect(applyError(vehicle, ready, 'fill_fuel_tank', { gallons: 40.5 })).toBe(
      'cannot fill above the tank capacity of 50 gallons: it holds 10',
    );
    expect(applyError(vehicle, driving, 'fill_fuel_tank', { gallons: 1 })).toBe(
      'stop the engine before refueling',
    );
  });

  it('shifts with the engine running and the brake pressed, to another gear', () => {
    expect(applyError(vehicle, ready, 'shift_gear', { gear: 'D' })).toBe('start the engine first');
    const running = applyOk(vehicle, ready, 'start_engine').state;
    expect(applyError(vehicle, running, 'shift_gear', { gear: 'P' })).toBe('already in P');
    expect(applyError(vehicle, driving, 'shift_gear', { gear: 'R' })).toBe(
      'press the brake pedal to shift gear',
    );
    expect(applyOk(vehicle, running, 'shift_gear', { gear: 'R' }).result).toEqual({ gear: 'R' });
  });

  it('drives at a speed only when it can, reversing at most 20 kph', () => {
    const running = applyOk(vehicle, ready, 'start_engine').state;
    expect(applyError(vehicle, ready, 'set_speed', { speedKph: 10 })).toBe(
      'the engine is not running',
    );
    expect(applyError(vehicle, running, 'set_speed', { speedKph: 10 })).toBe(
      'shift into D or R to drive',
    );
    const inD = applyOk(vehicle, running, 'shift_gear', { gear: 'D' }).state;
    expect(applyError(vehicle, inD, 'set_speed', { speedKph: 10 })).toBe(
      'release the brake pedal first',
    );
    const released = applyOk(vehicle, inD, 'release_brake_pedal').state;
    expect(
      applyError(vehicle, { ...released, parkingBrake: 'engaged' }, 'set_speed', { speedKph: 10 }),
    ).toBe('release the parking brake first');
    const doorOpen = { ...released, doors: { ...allLocked, passenger: 'unlocked' as const } };
    expect(applyError(vehicle, doorOpen, 'set_speed', { speedKph: 10 })).toBe(
      'lock every door before driving: unlocked: passenger',
    );
    expect(applyOk(vehicle, released, 'set_speed', { speedKph: 90 }).state.speedKph).toBe(90);
    const inR = applyAll(vehicle, running, [
      ['shift_gear', { gear: 'R' }],
      ['release_brake_pedal'],
    ]);
    expect(applyError(vehicle, inR, 'set_speed', { speedKph: 25 })).toBe(
      'reverse speed is limited to 20 kph',
    );
  });

  it('turns cruise control on while driving in D, and off', () => {
    const on = applyOk(vehicle, driving, 'set_cruise_control', { activate: true, speedKph: 100 });
    expect(on.result).toEqual({ cruiseControl: 'on', speedKph: 100 });
    expect(on.state).toMatchObject({ speedKph: 100, cruiseSpeedKph: 100 });
    const off = applyOk(vehicle, on.state, 'set_cruise_control', { activate: false });
    expect(off.state).toMatchObject({ speedKph: 100, cruiseSpeedKph: null });
    expect(applyError(vehicle, off.state, 'set_cruise_control', { activate: false })).toBe(
      'cruise control is not on',
    );
    expect(applyError(vehicle, driving, 'set_cruise_control', { activate: true })).toBe(
      'give speedKph to turn cruise control on',
    );
    const still = applyOk(vehicle, driving, 'set_speed', { speedKph: 0 }).state;
    expect(applyError(vehicle, still, 'set_cruise_control', { activate: true, speedKph: 50 })).toBe(
      'drive before turning cruise control on',
    );
    expect(applyError(vehicle, ready, 'set_cruise_control', { activate: true, speedKph: 50 })).toBe(
      'the engine is not running',
    );
    const reversing = applyAll(vehicle, ready, [
      ['start_engine'],
      ['shift_gear', { gear: 'R' }],
      ['release_brake_pedal'],
      ['set_speed', { speedKph: 10 }],
    ]);
    expect(
      applyError(vehicle, reversing, 'set_cruise_control', { activate: true, speedKph: 50 }),
    ).toBe('cruise control works only in D');
    // Setting a speed by hand turns cruise control off.
    expect(
      applyOk(vehicle, on.state, 'set_speed', { speedKph: 80 }).state.cruiseSpeedKph,
    ).toBeNull();
  });

  it('engages the parking brake only standing still', () => {
    expect(applyOk(vehicle, ready, 'set_parking_brake', { engage: true }).result).toEqual({
      parkingBrake: 'engaged',
    });
    expect(applyError(vehicle, driving, 'set_parking_brake', { engage: true })).toBe(
      'cannot engage the parking brake while moving',
    );
    expect(
      applyOk(vehicle, vehicle.emptyState, 'set_parking_brake', { engage: false }).state
        .parkingBrake,
    ).toBe('released');
  });

  it('sets the climate in C or F within 16-30 C', () => {
    expect(
      applyOk(vehicle, ready, 'adjust_climate_control', {
        temperature: 70,
        unit: 'fahrenheit',
        mode: 'heat',
      }).result,
    ).toEqual({ temperatureC: 21.1, fanSpeed: 50, mode: 'heat' });
    expect(applyError(vehicle, ready, 'adjust_climate_control', { temperature: 31 })).toBe(
      'the temperature must be between 16 and 30 C (61-86 F)',
    );
  });

  it('estimates whether the fuel reaches a distance', () => {
    expect(
      applyOk(vehicle, ready, 'estimate_drive_feasibility', { distanceMiles: 200 }).result,
    ).toEqual({
      canDrive: true,
      rangeMiles: 200,
    });
    expect(
      applyOk(vehicle, ready, 'estimate_drive_feasibility', { distanceMiles: 200.5 }).result,
    ).toMatchObject({ canDrive: false });
  });

  it('rejects states that break its invariants', () => {
    const bad = (patch: Partial<VehicleState>) =>
      vehicle.stateSchema.safeParse({ ...driving, ...patch });
    expect(bad({}).success).toBe(true);
    expect(bad({ engine: 'stopped' }).success).toBe(false);
    expect(bad({ brakePedal: 'pressed' }).success).toBe(false);
    expect(bad({ gear: 'N' }).success).toBe(false);
    expect(bad({ gear: 'R' }).success).toBe(false);
    expect(bad({ cruiseSpeedKph: 70 }).success).toBe(false);
    expect(bad({ fuelGallons: 51 }).success).toBe(false);
    expect(bad({ milesPerGallon: 1e308 }).success).toBe(false);
    expect(bad({ doors: { ...allLocked, driver: 'unlocked' } }).success).toBe(false);
  });
});
