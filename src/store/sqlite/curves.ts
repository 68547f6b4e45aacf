/**
 * Curves on SQLite. Points are packed float64 blobs so they read back bit for bit;
 * every write is one transaction, so a failed upload (or append) leaves nothing behind.
 */
import type { Db } from './db.js';
import type { PointColumns } from '../../curves/points.js';
import type { Curve, CurveForecastEntry, CurveSummary, CurvesRepository, NewCurve, Page, PointsUpdate } from '../types.js';
import { float64Bytes, float64FromBytes } from '../float64-bytes.js';
import { forecastEntryOf, type ForecastRow } from '../forecast-row.js';
import { CURVE_INSERT_COLUMNS, curveInsertValues, curveSummaryOf, type CurveRow as StoredCurveRow } from '../curve-row.js';

type CurveRow = StoredCurveRow<string, string>;

const summary = (row: CurveRow): CurveSummary => curveSummaryOf(row, row.created_at, JSON.parse(row.meta) as Record<string, unknown>);

/** Freeze a value and everything in it. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** List pages kept (a dashboard asks for one or two; more would be a client paging through). */
const PAGE_CACHE_SIZE = 16;

export class SqliteCurves implements CurvesRepository {
  /** The statements of the hot reads (list pages, counts for /health), prepared once: preparing costs as much as running them. */
  private readonly listPage;
  private readonly countAll;
  private readonly dataVersion;
  /**
   * List pages as last read, while nothing changed the curves: `GET /curves` is the hottest read (a
   * dashboard polls it), and its SQLite read is a fifth of its cost. Valid while this repository wrote
   * no curve (`writes`) and no other connection wrote the file (`PRAGMA data_version`, which counts
   * only other connections' commits); at most PAGE_CACHE_SIZE pages.
   */
  private readonly pages = new Map<string, Page<CurveSummary>>();
  private pagesStamp = '';
  private writes = 0;

  constructor(private readonly db: Db) {
    this.listPage = db.prepare('SELECT * FROM curves ORDER BY id LIMIT ? OFFSET ?');
    this.countAll = db.prepare('SELECT COUNT(*) AS n FROM curves').pluck();
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
  }

  /** Forget the cached list pages: this repository is about to change the curves. */
  private changed(): void {
    this.writes++;
    this.pages.clear();
  }

  private insertOne(curve: NewCurve): number {
    const { steps, losses, lrs } = curve.points;
    const info = this.db.prepare(`INSERT INTO curves (${CURVE_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...curveInsertValues(curve));
    const id = Number(info.lastInsertRowid);
    this.db.prepare('INSERT INTO curve_points (curve_id, steps, losses, lrs) VALUES (?, ?, ?, ?)').run(
      id,
      float64Bytes(steps),
      float64Bytes(losses),
      lrs ? float64Bytes(lrs) : null,
    );
    return id;
  }

  private summaryNow(id: number): CurveSummary | undefined {
    const row = this.db.prepare('SELECT * FROM curves WHERE id = ?').get(id) as CurveRow | undefined;
    return row && summary(row);
  }

  async insert(curve: NewCurve): Promise<CurveSummary> {
    this.changed();
    const id = this.db.transaction(() => this.insertOne(curve))();
    return this.summaryNow(id)!;
  }

  async insertMany(curves: NewCurve[]): Promise<CurveSummary[]> {
    this.changed();
    const ids = this.db.transaction(() => curves.map((c) => this.insertOne(c)))();
    return ids.map((id) => this.summaryNow(id)!);
  }

  async list(limit: number, offset: number): Promise<Page<CurveSummary>> {
    const stamp = `${this.writes}:${this.dataVersion.get() as number}`;
    if (stamp !== this.pagesStamp) {
      this.pages.clear();
      this.pagesStamp = stamp;
    }
    const key = `${limit}:${offset}`;
    let page = this.pages.get(key);
    if (!page) {
      const rows = this.listPage.all(limit, offset) as CurveRow[];
      // Frozen: the same objects answer every request until a change (changing one throws instead of corrupting the cache).
      page = Object.freeze({ items: Object.freeze(rows.map((row) => deepFreeze(summary(row)))), total: this.countAll.get() as number }) as Page<CurveSummary>;
      if (this.pages.size >= PAGE_CACHE_SIZE) this.pages.clear();
      this.pages.set(key, page);
    }
    return page;
  }

  async count(): Promise<number> {
    return this.countAll.get() as number;
  }

  async summary(id: number): Promise<CurveSummary | undefined> {
    return this.summaryNow(id);
  }

  private getNow(id: number): Curve | undefined {
    const head = this.summaryNow(id);
    if (!head) return undefined;
    const row = this.db.prepare('SELECT steps, losses, lrs FROM curve_points WHERE curve_id = ?').get(id) as {
      steps: Buffer;
      losses: Buffer;
      lrs: Buffer | null;
    };
    return { ...head, points: { steps: float64FromBytes(row.steps), losses: float64FromBytes(row.losses), lrs: row.lrs ? float64FromBytes(row.lrs) : null } };
  }

  async get(id: number): Promise<Curve | undefined> {
    return this.getNow(id);
  }

  private writePoints(id: number, points: PointColumns): void {
    const { steps, losses, lrs } = points;
    this.db.prepare('UPDATE curves SET point_count = ?, first_step = ?, last_step = ? WHERE id = ?').run(steps.length, steps[0], steps[steps.length - 1], id);
    this.db.prepare('UPDATE curve_points SET steps = ?, losses = ?, lrs = ? WHERE curve_id = ?').run(float64Bytes(steps), float64Bytes(losses), lrs ? float64Bytes(lrs) : null, id);
  }

  async updatePoints(id: number, update: PointsUpdate): Promise<Curve | undefined> {
    // better-sqlite3 is synchronous: read, merge and write happen with no other request in between.
    this.changed();
    return this.db.transaction(() => {
      const current = this.getNow(id);
      if (!current) return undefined;
      const next = update(current);
      if (!next) return current;
      this.writePoints(id, next);
      return { ...this.summaryNow(id)!, points: next };
    })();
  }

  async setPlannedSchedule(id: number, spec: string | null): Promise<boolean> {
    this.changed();
    return this.db.prepare('UPDATE curves SET planned_schedule = ? WHERE id = ?').run(spec, id).changes > 0;
  }

  async addForecast(curveId: number, entry: Omit<CurveForecastEntry, 'createdAt'>, keep: number): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO curve_forecasts (curve_id, source, created_at, point_count, last_step, final_step, final_loss, lower, upper)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(curveId, entry.source, new Date().toISOString(), entry.pointCount, entry.lastStep, entry.finalStep, entry.finalLoss, entry.lower, entry.upper);
      this.db
        .prepare(
          `DELETE FROM curve_forecasts WHERE curve_id = ? AND source = ? AND id NOT IN
             (SELECT id FROM curve_forecasts WHERE curve_id = ? AND source = ? ORDER BY id DESC LIMIT ?)`,
        )
        .run(curveId, entry.source, curveId, entry.source, keep);
    })();
  }

  async forecasts(curveId: number, source: string, limit: number): Promise<CurveForecastEntry[]> {
    const rows = this.db
      .prepare('SELECT * FROM curve_forecasts WHERE curve_id = ? AND source = ? ORDER BY id DESC LIMIT ?')
      .all(curveId, source, limit) as ForecastRow<string>[];
    return rows.reverse().map((row) => forecastEntryOf(row, row.created_at));
  }

  async delete(id: number): Promise<boolean> {
    this.changed();
    return this.db.prepare('DELETE FROM curves WHERE id = ?').run(id).changes > 0;
  }
}
