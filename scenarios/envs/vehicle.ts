/**
 * `vehicle`: a car's controller: doors, brake pedal, parking brake, engine, gears, speed, cruise
 * control, fuel and climate. Modelled on BFCL v3's vehicle control API; written anew, with the
 * preconditions a real controller enforces as tool errors (engine already running, brake not
 * pressed, doors unlocked, moving while shifting). Speed is a commanded value: the car is at the
 * speed last set, and fuel is spent only by a scenario's state, never by time passing.
 *
 * What the rules keep true in every state (the schema checks it): a stopped engine means gear P,
 * speed 0 and no cruise control; a moving car has its engine running, is in D or R (R at most
 * 20 kph), has both brakes released and every door locked; cruise control means D at the cruise
 * speed; the brake pedal pressed means standing still; fuel is between 0 and the tank's capacity.
 */
import { z } from 'zod';
import type { Environment, Operation } from './environment.js';
import {
  booleanParam,
  enumParam,
  fail,
  integerParam,
  num,
  numberParam,
  ok,
  optNum,
  optStr,
  params,
  str,
  strList,
} from './ops.js';

const DOORS = ['driver', 'passenger', 'rear_left', 'rear_right'] as const;
const GEARS = ['P', 'R', 'N', 'D'] as const;
const MAX_REVERSE_KPH = 20;
const MAX_SPEED_KPH = 200;

const lock = z.enum(['locked', 'unlocked']);

export const vehicleStateSchema = z
  .strictObject({
    engine: z.enum(['stopped', 'running']),
    fuelGallons: z.number().min(0),
    // Bounded so derived figures (range = fuel x mpg) stay finite whatever a scenario gives.
    tankCapacityGallons: z.number().positive().max(10_000),
    milesPerGallon: z.number().positive().max(1_000),
    batteryVolts: z.number().min(0).max(1_000),
    doors: z.strictObject({
      driver: lock,
      passenger: lock,
      rear_left: lock,
      rear_right: lock,
    }),
    brakePedal: z.enum(['pressed', 'released']),
    parkingBrake: z.enum(['engaged', 'released']),
    gear: z.enum(GEARS),
    speedKph: z.number().min(0).max(MAX_SPEED_KPH),
    /** The cruise control's set speed, or null when it is off. */
    cruiseSpeedKph: z.number().positive().nullable(),
    climate: z.strictObject({
      temperatureC: z.number().min(-100).max(100),
      fanSpeed: z.int().min(0).max(100),
      mode: z.enum(['auto', 'cool', 'heat', 'defrost']),
    }),
  })
  .superRefine((s, ctx) => {
    const problem = (message: string): void => ctx.addIssue({ code: 'custom', message });
    if (s.fuelGallons > s.tankCapacityGallons) problem('fuel above the tank capacity');
    if (s.engine === 'stopped' && (s.gear !== 'P' || s.speedKph !== 0 || s.cruiseSpeedKph !== null))
      problem('a stopped engine needs gear P, speed 0 and cruise control off');
    if (s.speedKph > 0) {
      if (s.gear !== 'D' && s.gear !== 'R') problem('moving needs gear D or R');
      if (s.brakePedal === 'pressed' || s.parkingBrake === 'engaged')
        problem('moving with a brake on');
      if (DOORS.some((d) => s.doors[d] === 'unlocked')) problem('moving with a door unlocked');
    }
    if (s.gear === 'R' && s.speedKph > MAX_REVERSE_KPH) problem('reversing too fast');
    if (s.cruiseSpeedKph !== null && (s.gear !== 'D' || s.speedKph !== s.cruiseSpeedKph))
      problem('cruise control needs gear D at the cruise speed');
  });

export type VehicleState = z.infer<typeof vehicleStateSchema>;
type Op = Operation<VehicleState>;

function unlocked(s: VehicleState): string[] {
  return DOORS.filter((d) => s.doors[d] === 'unlocked');
}

function status(s: VehicleState) {
  return {
    engine: s.engine,
    fuelGallons: s.fuelGallons,
    batteryVolts: s.batteryVolts,
    doors: s.doors,
    brakePedal: s.brakePedal,
    parkingBrake: s.parkingBrake,
    gear: s.gear,
    speedKph: s.speedKph,
    cruiseControl: s.cruiseSpeedKph === null ? 'off' : `on at ${s.cruiseSpeedKph} kph`,
    climate: s.climate,
  };
}

const doorsParam = params(
  {
    doors: {
      type: 'array',
      items: { type: 'string', enum: [...DOORS] },
      minItems: 1,
      uniqueItems: true,
      description: 'Doors: driver, passenger, rear_left, rear_right',
    },
  },
  ['doors'],
);

function setDoors(to: 'locked' | 'unlocked'): Op['apply'] {
  return (s, args) => {
    if (to === 'unlocked' && s.speedKph > 0) return fail('cannot unlock doors while moving');
    const doors = { ...s.doors };
    for (const d of strList(args, 'doors')) doors[d as (typeof DOORS)[number]] = to;
    const next = { ...s, doors };
    return ok(next, { doors, unlockedDoors: unlocked(next).length });
  };
}

const getStatus: Op = {
  description: 'Read the whole vehicle status: engine, fuel, doors, brakes, gear, speed, climate.',
  parameters: params({}),
  readOnly: true,
  apply: (s) => ok(s, status(s)),
};

const lockDoors: Op = {
  description: 'Lock the given doors.',
  parameters: doorsParam,
  readOnly: false,
  apply: setDoors('locked'),
};

const unlockDoors: Op = {
  description: 'Unlock the given doors (only while standing still).',
  parameters: doorsParam,
  readOnly: false,
  apply: setDoors('unlocked'),
};

const pressBrake: Op = {
  description:
    'Press the brake pedal fully and keep it pressed; a moving car stops and cruise control ' +
    'turns off.',
  parameters: params({}),
  readOnly: false,
  apply(s) {
    const next = { ...s, brakePedal: 'pressed' as const, speedKph: 0, cruiseSpeedKph: null };
    return ok(next, { brakePedal: 'pressed', speedKph: 0 });
  },
};

const releaseBrake: Op = {
  description: 'Release the brake pedal.',
  parameters: params({}),
  readOnly: false,
  apply: (s) => ok({ ...s, brakePedal: 'released' }, { brakePedal: 'released' }),
};

const startEngine: Op = {
  description:
    'Start the engine. Every door must be locked, the brake pedal pressed and the tank not empty.',
  parameters: params({}),
  readOnly: false,
  apply(s) {
    if (s.engine === 'running') return fail('the engine is already running');
    const open = unlocked(s);
    if (open.length > 0)
      return fail(`lock every door before starting the engine: unlocked: ${open.join(', ')}`);
    if (s.brakePedal !== 'pressed') return fail('press the brake pedal before starting the engine');
    if (s.fuelGallons <= 0) return fail('the fuel tank is empty');
    return ok({ ...s, engine: 'running' }, { engine: 'running', fuelGallons: s.fuelGallons });
  },
};

const stopEngine: Op = {
  description: 'Stop the engine; the car must stand still in P.',
  parameters: params({}),
  readOnly: false,
  apply(s) {
    if (s.engine === 'stopped') return fail('the engine is not running');
    if (s.speedKph > 0) return fail('stop the vehicle before stopping the engine');
    if (s.gear !== 'P') return fail('shift to P before stopping the engine');
    return ok({ ...s, engine: 'stopped' }, { engine: 'stopped' });
  },
};

const fillFuel: Op = {
  description: 'Add fuel, in gallons, with the engine stopped; the tank cannot be overfilled.',
  parameters: params(
    { gallons: numberParam('Gallons to add', { exclusiveMinimum: 0, maximum: 1000 }) },
    ['gallons'],
  ),
  readOnly: false,
  apply(s, args) {
    if (s.engine === 'running') return fail('stop the engine before refueling');
    const fuel = s.fuelGallons + num(args, 'gallons');
    if (fuel > s.tankCapacityGallons)
      return fail(
        `cannot fill above the tank capacity of ${s.tankCapacityGallons} gallons: it holds ${s.fuelGallons}`,
      );
    return ok({ ...s, fuelGallons: fuel }, { fuelGallons: fuel });
  },
};

const shiftGear: Op = {
  description: 'Shift to P, R, N or D; the engine must run and the brake pedal be pressed.',
  parameters: params({ gear: enumParam('Gear', GEARS) }, ['gear']),
  readOnly: false,
  apply(s, args) {
    const gear = str(args, 'gear') as VehicleState['gear'];
    if (s.engine !== 'running') return fail('start the engine first');
    if (s.gear === gear) return fail(`already in ${gear}`);
    // The pressed pedal also means the car stands still (pressing it stops the car).
    if (s.brakePedal !== 'pressed') return fail('press the brake pedal to shift gear');
    return ok({ ...s, gear }, { gear });
  },
};

/** Why the car cannot drive now, or null. */
function cannotDrive(s: VehicleState): string | null {
  if (s.engine !== 'running') return 'the engine is not running';
  if (s.gear !== 'D' && s.gear !== 'R') return 'shift into D or R to drive';
  if (s.brakePedal === 'pressed') return 'release the brake pedal first';
  if (s.parkingBrake === 'engaged') return 'release the parking brake first';
  const open = unlocked(s);
  if (open.length > 0) return `lock every door before driving: unlocked: ${open.join(', ')}`;
  return null;
}

const setSpeed: Op = {
  description: 'Drive at a speed in kph (0 stands still); turns cruise control off.',
  parameters: params(
    { speedKph: numberParam('Target speed, kph', { minimum: 0, maximum: MAX_SPEED_KPH }) },
    ['speedKph'],
  ),
  readOnly: false,
  apply(s, args) {
    const speed = num(args, 'speedKph');
    const why = cannotDrive(s);
    if (why !== null) return fail(why);
    if (s.gear === 'R' && speed > MAX_REVERSE_KPH)
      return fail(`reverse speed is limited to ${MAX_REVERSE_KPH} kph`);
    return ok({ ...s, speedKph: speed, cruiseSpeedKph: null }, { speedKph: speed });
  },
};

const setCruise: Op = {
  description:
    'Turn cruise control on at a speed (30-150 kph, a multiple of 5) while driving in D, or off.',
  parameters: params(
    {
      activate: booleanParam('true to turn it on, false to turn it off'),
      speedKph: integerParam('Cruise speed, kph (needed to turn it on)', {
        minimum: 30,
        maximum: 150,
        multipleOf: 5,
      }),
    },
    ['activate'],
  ),
  readOnly: false,
  apply(s, args) {
    if (args.activate !== true) {
      if (s.cruiseSpeedKph === null) return fail('cruise control is not on');
      return ok({ ...s, cruiseSpeedKph: null }, { cruiseControl: 'off', speedKph: s.speedKph });
    }
    const speed = optNum(args, 'speedKph');
    if (speed === null) return fail('give speedKph to turn cruise control on');
    const why = cannotDrive(s);
    if (why !== null) return fail(why);
    if (s.gear !== 'D') return fail('cruise control works only in D');
    if (s.speedKph === 0) return fail('drive before turning cruise control on');
    return ok(
      { ...s, speedKph: speed, cruiseSpeedKph: speed },
      { cruiseControl: 'on', speedKph: speed },
    );
  },
};

const setParkingBrake: Op = {
  description: 'Engage or release the parking brake (engage only while standing still).',
  parameters: params({ engage: booleanParam('true to engage, false to release') }, ['engage']),
  readOnly: false,
  apply(s, args) {
    const engage = args.engage === true;
    if (engage && s.speedKph > 0) return fail('cannot engage the parking brake while moving');
    const parkingBrake = engage ? ('engaged' as const) : ('released' as const);
    return ok({ ...s, parkingBrake }, { parkingBrake });
  },
};

const adjustClimate: Op = {
  description: 'Set the cabin temperature (16-30 C, or the same in F), and the fan speed and mode.',
  parameters: params(
    {
      temperature: numberParam('Temperature'),
      unit: enumParam('Unit of temperature (default celsius)', ['celsius', 'fahrenheit']),
      fanSpeed: integerParam('Fan speed 0-100', { minimum: 0, maximum: 100 }),
      mode: enumParam('Climate mode', ['auto', 'cool', 'heat', 'defrost']),
    },
    ['temperature'],
  ),
  readOnly: false,
  apply(s, args) {
    const t = num(args, 'temperature');
    const celsius = optStr(args, 'unit') === 'fahrenheit' ? ((t - 32) * 5) / 9 : t;
    const c = Math.round(celsius * 10) / 10;
    if (c < 16 || c > 30) return fail('the temperature must be between 16 and 30 C (61-86 F)');
    const climate = {
      temperatureC: c,
      fanSpeed: optNum(args, 'fanSpeed') ?? s.climate.fanSpeed,
      mode: (optStr(args, 'mode') ?? s.climate.mode) as VehicleState['climate']['mode'],
    };
    return ok({ ...s, climate }, climate);
  },
};

const estimateRange: Op = {
  description: 'Say whether the fuel in the tank is enough to drive a distance, in miles.',
  parameters: params({ distanceMiles: numberParam('Distance, miles', { minimum: 0 }) }, [
    'distanceMiles',
  ]),
  readOnly: true,
  apply(s, args) {
    const range = s.fuelGallons * s.milesPerGallon;
    return ok(s, { canDrive: range >= num(args, 'distanceMiles'), rangeMiles: range });
  },
};

export const vehicle: Environment<VehicleState> = {
  name: 'vehicle',
  description:
    "A car's controller: doors, brakes, engine, gears, speed, cruise control, fuel and climate.",
  stateSchema: vehicleStateSchema,
  emptyState: {
    engine: 'stopped',
    fuelGallons: 10,
    tankCapacityGallons: 50,
    milesPerGallon: 20,
    batteryVolts: 12.6,
    doors: {
      driver: 'unlocked',
      passenger: 'unlocked',
      rear_left: 'unlocked',
      rear_right: 'unlocked',
    },
    brakePedal: 'released',
    parkingBrake: 'engaged',
    gear: 'P',
    speedKph: 0,
    cruiseSpeedKph: null,
    climate: { temperatureC: 22, fanSpeed: 50, mode: 'auto' },
  },
  operations: {
    get_vehicle_status: getStatus,
    lock_doors: lockDoors,
    unlock_doors: unlockDoors,
    press_brake_pedal: pressBrake,
    release_brake_pedal: releaseBrake,
    start_engine: startEngine,
    stop_engine: stopEngine,
    fill_fuel_tank: fillFuel,
    shift_gear: shiftGear,
    set_speed: setSpeed,
    set_cruise_control: setCruise,
    set_parking_brake: setParkingBrake,
    adjust_climate_control: adjustClimate,
    estimate_drive_feasibility: estimateRange,
  },
};
