/** The one source of time. Rules take `now` from a Clock, never from `Date.now()`. */
export interface Clock {
  now(): Date;
}

/** Wall-clock time. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that an operator may move forward (TIME_TRAVEL=1, `advanceClock`). */
export interface AdjustableClock extends Clock {
  /** Moves the clock `seconds` forward and returns the new now. */
  advance(seconds: number): Date;
}

/** True when `clock` can be moved by `advanceClock`. */
export function isAdjustable(clock: Clock): clock is AdjustableClock {
  return typeof (clock as Partial<AdjustableClock>).advance === 'function';
}

/**
 * System time plus an offset that only moves forward (TIME_TRAVEL=1). The offset lives in this
 * process: each instance and each restart starts at wall-clock time.
 */
export class OffsetClock implements AdjustableClock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(seconds: number): Date {
    this.offsetMs += seconds * 1000;
    return this.now();
  }
}

/** A clock that stands still until told to move: for tests. */
export class ManualClock implements AdjustableClock {
  private ms: number;
  constructor(start: Date | string = '2026-01-01T00:00:00.000Z') {
    this.ms = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): Date {
    this.ms += seconds * 1000;
    return this.now();
  }
  set(at: Date | string): void {
    this.ms = new Date(at).getTime();
  }
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
