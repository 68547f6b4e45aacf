/**
 * Point columns as stored by every engine (a SQLite blob, a PostgreSQL bytea): the float64 values'
 * own bytes, so they read back bit for bit (NaN payloads, -0 and subnormals included).
 */

/** The bytes of `values`, without a copy. */
export function float64Bytes(values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** The values of stored bytes, copied into a fresh, aligned Float64Array (a Buffer may sit at any offset of a shared one). */
export function float64FromBytes(bytes: Buffer): Float64Array {
  return new Float64Array(new Uint8Array(bytes).buffer);
}
