// The demo's fixed cast (shared by the server route and the browser app; no imports, no I/O).

export interface DemoUser {
  id: string;
  name: string;
  /** The one operator of the demo: its token carries `role: operator` (advanceClock, sweeps). */
  operator: boolean;
}

export const DEMO_CAST: readonly DemoUser[] = [
  { id: 'alice', name: 'Alice', operator: false },
  { id: 'bob', name: 'Bob', operator: false },
  { id: 'carol', name: 'Carol', operator: false },
  { id: 'dan', name: 'Dan', operator: false },
  { id: 'olga', name: 'Olga (operator)', operator: true },
];

/** The demo's operator (time travel, retention sweeps). */
export const DEMO_OPERATOR = 'olga';

/** Lifetime of a demo token, seconds: short, the page asks for a new one before it runs out. */
export const DEMO_TOKEN_TTL_SECONDS = 15 * 60;

export const demoUser = (id: unknown): DemoUser | undefined =>
  typeof id === 'string' ? DEMO_CAST.find((u) => u.id === id) : undefined;
