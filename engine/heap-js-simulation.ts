/**
 * A Simulation whose event queue runs on heap-js instead of the engine's own typed-array heap: the
 * benchmark behind heap.ts's choice runs both side by side, and a property test holds them to one
 * order. Not part of the engine's public face (index.ts does not export it).
 */
import { HeapJsEventQueue } from './heap.js';
import type { EventQueue } from './queue.js';
import { Simulation } from './simulation.js';

export class HeapJsSimulation extends Simulation {
  protected override newQueue(): EventQueue {
    return new HeapJsEventQueue();
  }
}
