const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");
const redacted = "[redacted secret]";

/**
 * Marks an object that holds key material so that it never prints its secrets: `util.inspect`,
 * `console.log`, `String()` and `JSON.stringify` all show `[redacted secret]` instead of the fields.
 * Every class of this package that holds secrets calls it in its constructor (checked by tests).
 *
 * JavaScript cannot guarantee that key bytes are erased from memory: consumed keys are overwritten
 * with zeros where we own the buffer (`wipe`), but copies made by the engine or by node:crypto may
 * survive until garbage collection.
 *
 * @param target - the object to redact
 * @param label - a name shown in place of the contents, e.g. `SenderChain`
 */
export function redactSecrets(target: object, label: string): void {
  const text = `${label} ${redacted}`;
  Object.defineProperties(target, {
    [inspectSymbol]: { value: () => text, enumerable: false },
    toJSON: { value: () => text, enumerable: false },
    toString: { value: () => text, enumerable: false },
  });
}

/** Overwrites key material we no longer need (best effort: see {@link redactSecrets}). */
export function wipe(...buffers: Array<Uint8Array | undefined>): void {
  for (const buffer of buffers) buffer?.fill(0);
}
