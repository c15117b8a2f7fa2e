/** Returns `value` when it is one of `valid`; otherwise throws an error that lists them. */
export function oneOf<T extends string>(name: string, value: unknown, valid: readonly T[]): T {
  if (typeof value === 'string' && (valid as readonly string[]).includes(value)) return value as T;
  throw new Error(
    `${name} must be one of ${valid.map((v) => `'${v}'`).join(', ')}; got ${JSON.stringify(value)}`,
  );
}

/** Returns `value` when it is an integer of at least `min`. */
export function integerAtLeast(name: string, value: unknown, min: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
  throw new Error(`${name} must be an integer >= ${min}; got ${JSON.stringify(value)}`);
}

/** Returns `value` when it is a finite number in [min, max]. */
export function numberIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
  throw new Error(`${name} must be a number in [${min}, ${max}]; got ${JSON.stringify(value)}`);
}

/** Returns `value` when it is a boolean. */
export function bool(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw new Error(`${name} must be true or false; got ${JSON.stringify(value)}`);
}
