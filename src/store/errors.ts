/**
 * Storage errors every engine reports the same way, so the HTTP layer maps them without knowing the
 * driver: the database (or its disk) is full. The write that hit it left nothing behind (it ran in a
 * transaction that rolled back).
 */
export class StorageFullError extends Error {
  constructor(cause: string) {
    super(`storage is full (${cause}): nothing was stored; free disk space, raise LRCAST_DB_MAX_MB or delete curves and fits`);
    this.name = 'StorageFullError';
  }
}
