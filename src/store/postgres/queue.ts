/**
 * The job queue across processes, on the PostgreSQL database of the store (JobQueue, ../types.ts).
 *
 * pg-boss (a proven queue on PostgreSQL: SKIP LOCKED fetches, retries, expiry, archiving) carries the
 * deliveries: one message `{jobId}` per start of a job's work, on a queue per kind. The `jobs` row
 * stays the job's truth (status, progress, result), so the API reads it as on SQLite. A delivery is
 * taken by claiming its row (queued -> running, conditionally: a duplicate or late delivery finds it
 * taken or ended and does nothing); the claim names an owner, and only the owner's progress and
 * outcome are written (a dead or superseded start stores nothing). Workers renew a heartbeat on the
 * rows they run; any process sweeps rows whose heartbeat went stale (the worker died) back to queued
 * with a new delivery, or to failed after too many starts. The row change and the new delivery are
 * one transaction, so a job is never left queued without a delivery.
 *
 * Events (progress, ends, new jobs) cross processes by NOTIFY on a channel of the schema, received by
 * one LISTEN connection per process: API instances stream them to SSE clients, workers stop a job
 * cancelled elsewhere, and an idle worker is woken when a job is queued instead of waiting for its poll.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { quoteIdent, transaction, type PgLocation, type Tx } from './db.js';
import { JOB_COLUMNS, jobFromRow, type JobRow } from './jobs.js';
import type { JobOutcomeRecord, JobQueue, QueueEvent, StoredJob } from '../types.js';

/** How long a delivery may stay active in pg-boss before it is retried (pg-boss's maximum is under 24 h): our heartbeat detects dead workers far sooner. */
const DELIVERY_EXPIRY_HOURS = 23;
/** pg-boss's smallest polling interval: how late an idle worker notices a job it was not woken for. */
const POLL_SECONDS = 0.5;
/** NOTIFY payloads are limited to 8000 bytes: progress data beyond this is sent as its progress and best loss only. */
const MAX_PAYLOAD = 7000;

const queueName = (kind: string) => `lrcast_${kind.replace(/[^\w-]/g, '_')}`;
const now = () => new Date().toISOString();

/** The advisory lock key of the queue's setup (any constant apart from the migrations' MIGRATION_LOCK). */
const QUEUE_SETUP_LOCK = 0x6c7271;

export class PgJobQueue implements JobQueue {
  /** host:pid:random, so an operator (or a test) sees which process runs a job (jobs.owner starts with it). */
  readonly origin = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly boss: PgBoss;
  private readonly channel: string;
  private readonly listeners = new Set<(event: QueueEvent) => void>();
  private readonly createdQueues = new Map<string, Promise<void>>();
  /** pg-boss worker ids by kind, to wake them when a job of their kind is queued. */
  private readonly workerIds = new Map<string, string[]>();
  private listenClient: pg.Client | undefined;
  private started: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly location: PgLocation,
  ) {
    const schema = location.schema;
    this.channel = schema ? `lrcast_jobs_${schema}` : 'lrcast_jobs';
    this.boss = new PgBoss({
      connectionString: location.connectionString,
      schema: schema ? `${schema}_pgboss` : 'pgboss',
      max: 4,
      application_name: 'lrcast-queue',
      // No cron schedules here; maintenance (expiry, archiving) stays on.
      schedule: false,
      expireInHours: DELIVERY_EXPIRY_HOURS,
      retryLimit: 3,
      retryDelay: 1,
      archiveCompletedAfterSeconds: 3600,
    });
    this.boss.on('error', (error: Error) => process.emitWarning(`job queue (pg-boss): ${error.message}`));
  }

  /** Start pg-boss (its schema created or migrated on first use) and the LISTEN connection, once. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.underSetupLock(() => this.boss.start());
      await this.connectListener();
    })();
    return this.started;
  }

  /**
   * Run pg-boss's setup (its schema install or migration, a queue's creation) under a session-level
   * advisory lock: processes starting at once on an empty database otherwise run the same DDL
   * together and PostgreSQL can answer one of them "deadlock detected" (seen in CI).
   */
  private async underSetupLock<T>(setup: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [QUEUE_SETUP_LOCK]);
      try {
        return await setup();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [QUEUE_SETUP_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  /** The LISTEN connection; connected again (after a second) when it is lost, while the queue is open. */
  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.location.connectionString, application_name: 'lrcast-listen' });
    let lost = false;
    const reconnect = (why: string) => {
      if (lost || this.closed) return;
      lost = true;
      process.emitWarning(`job events (LISTEN): ${why}; connecting again`);
      client.end().catch(() => {});
      const retry = () =>
        setTimeout(() => {
          if (!this.closed) this.connectListener().catch(retry);
        }, 1000).unref();
      retry();
    };
    client.on('error', (error) => reconnect(error.message));
    client.on('end', () => reconnect('the connection ended'));
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      let event: QueueEvent;
      try {
        event = JSON.parse(message.payload) as QueueEvent;
      } catch {
        return;
      }
      if (event.type === 'queued') {
        for (const id of this.workerIds.get(event.kind ?? '') ?? []) this.boss.notifyWorker(id);
        return;
      }
      for (const listener of this.listeners) listener(event);
    });
    await client.connect();
    await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    this.listenClient = client;
  }

  private ensureQueue(kind: string): Promise<void> {
    let created = this.createdQueues.get(kind);
    if (!created) {
      created = this.start().then(() => this.underSetupLock(() => this.boss.createQueue(queueName(kind))));
      created.catch(() => this.createdQueues.delete(kind));
      this.createdQueues.set(kind, created);
    }
    return created;
  }

  /** Publish an event (delivered to listeners of every process, this one included, at the transaction's commit). */
  private async publish(db: pg.Pool | Tx, event: Omit<QueueEvent, 'origin'>): Promise<void> {
    let payload = JSON.stringify({ ...event, origin: this.origin });
    if (payload.length > MAX_PAYLOAD && event.type === 'progress') {
      const { progress, bestLoss } = (event.data ?? {}) as { progress?: number; bestLoss?: number };
      payload = JSON.stringify({ ...event, data: { progress, bestLoss }, origin: this.origin });
    }
    await db.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
  }

  /** A new delivery of job `id` inside transaction `tx` (committed with the row change, or not at all). */
  private async deliver(tx: Tx, kind: string, id: number): Promise<void> {
    await this.ensureQueue(kind);
    const db = { executeSql: (text: string, values: unknown[]) => tx.query(text, values) };
    // Deliveries are fetched by priority first: older jobs (smaller ids) first, as on SQLite, also when a job is delivered again.
    await this.boss.send(queueName(kind), { jobId: id }, { db, priority: -id });
    await this.publish(tx, { id, type: 'queued', kind });
  }

  async enqueue(kind: string, request: Record<string, unknown>): Promise<StoredJob> {
    await this.ensureQueue(kind);
    return transaction(this.pool, async (tx) => {
      const at = now();
      const { rows } = await tx.query<JobRow>(
        `INSERT INTO jobs (kind, status, progress, request, created_at, updated_at) VALUES ($1, 'queued', 0, $2, $3, $3) RETURNING ${JOB_COLUMNS}`,
        [kind, JSON.stringify(request), at],
      );
      const job = jobFromRow(rows[0]!);
      await this.deliver(tx, kind, job.id);
      return job;
    });
  }

  async work(kind: string, concurrency: number, run: (jobId: number) => Promise<void>): Promise<void> {
    await this.ensureQueue(kind);
    const ids: string[] = [];
    // pg-boss 10 runs one batch at a time per worker: `concurrency` workers run that many jobs at once.
    for (let i = 0; i < concurrency; i++) {
      ids.push(
        await this.boss.work<{ jobId: number }>(queueName(kind), { batchSize: 1, pollingIntervalSeconds: POLL_SECONDS }, async ([delivery]) => {
          if (delivery) await run(delivery.data.jobId);
        }),
      );
    }
    this.workerIds.set(kind, [...(this.workerIds.get(kind) ?? []), ...ids]);
  }

  async claim(id: number, owner: string): Promise<StoredJob | undefined> {
    const { rows } = await this.pool.query<JobRow>(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, owner = $2, heartbeat_at = now(), updated_at = $3
       WHERE id = $1 AND status = 'queued' RETURNING ${JOB_COLUMNS}`,
      [id, owner, now()],
    );
    return rows[0] && jobFromRow(rows[0]);
  }

  async heartbeat(id: number, owner: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE jobs SET heartbeat_at = now() WHERE id = $1 AND owner = $2 AND status = 'running'`, [id, owner]);
    return (rowCount ?? 0) > 0;
  }

  async progress(id: number, owner: string, progress: number, bestLoss: number | null, data: Record<string, unknown> | null): Promise<boolean> {
    return transaction(this.pool, async (tx) => {
      const { rowCount } = await tx.query(
        `UPDATE jobs SET progress = $3, best_loss = $4, heartbeat_at = now(), updated_at = $5 WHERE id = $1 AND owner = $2 AND status = 'running'`,
        [id, owner, progress, bestLoss, now()],
      );
      if (!rowCount) return false;
      if (data) await this.publish(tx, { id, type: 'progress', data });
      return true;
    });
  }

  async finish(id: number, owner: string, outcome: JobOutcomeRecord): Promise<boolean> {
    return transaction(this.pool, async (tx) => {
      const { rowCount } =
        outcome.status === 'done'
          ? await tx.query(
              `UPDATE jobs SET status = 'done', progress = 1, best_loss = $3, result = $4, schedule_id = $5, error = NULL, owner = NULL, updated_at = $6
               WHERE id = $1 AND owner = $2 AND status = 'running'`,
              [id, owner, outcome.bestLoss, JSON.stringify(outcome.result), outcome.scheduleId, now()],
            )
          : await tx.query(`UPDATE jobs SET status = 'failed', error = $3, owner = NULL, updated_at = $4 WHERE id = $1 AND owner = $2 AND status = 'running'`, [
              id,
              owner,
              outcome.error,
              now(),
            ]);
      if (!rowCount) return false;
      await this.publish(tx, outcome.status === 'done' ? { id, type: 'done' } : { id, type: 'failed', data: { error: outcome.error } });
      return true;
    });
  }

  async cancel(id: number, reason: string): Promise<'queued' | 'running' | undefined> {
    return transaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ status: string }>(`SELECT status FROM jobs WHERE id = $1 FOR UPDATE`, [id]);
      const before = rows[0]?.status;
      if (before !== 'queued' && before !== 'running') return undefined;
      await tx.query(`UPDATE jobs SET status = 'cancelled', error = $2, owner = NULL, updated_at = $3 WHERE id = $1`, [id, reason, now()]);
      await this.publish(tx, { id, type: 'cancelled', data: { error: reason } });
      return before;
    });
  }

  async redeliver(id: number): Promise<void> {
    await transaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ kind: string }>(`SELECT kind FROM jobs WHERE id = $1 AND status = 'queued' FOR UPDATE`, [id]);
      if (rows[0]) await this.deliver(tx, rows[0].kind, id);
    });
  }

  async release(id: number, owner: string): Promise<void> {
    await transaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ kind: string }>(
        `UPDATE jobs SET status = 'queued', progress = 0, best_loss = NULL, owner = NULL, heartbeat_at = NULL,
           attempts = GREATEST(attempts - 1, 0), updated_at = $3
         WHERE id = $1 AND owner = $2 AND status = 'running' RETURNING kind`,
        [id, owner, now()],
      );
      if (rows[0]) await this.deliver(tx, rows[0].kind, id);
    });
  }

  async sweep(staleMs: number, maxAttempts: number, reason: (attempts: number) => string): Promise<{ requeued: number[]; failed: number[] }> {
    return transaction(this.pool, async (tx) => {
      // SKIP LOCKED: sweepers of several processes split the stale rows instead of waiting on each other.
      const { rows } = await tx.query<{ id: number; kind: string; attempts: number }>(
        `SELECT id, kind, attempts FROM jobs WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1::double precision / 1000)
         ORDER BY id FOR UPDATE SKIP LOCKED`,
        [staleMs],
      );
      const requeued: number[] = [];
      const failed: number[] = [];
      for (const row of rows) {
        if (row.attempts >= maxAttempts) {
          const error = reason(row.attempts);
          await tx.query(`UPDATE jobs SET status = 'failed', error = $2, owner = NULL, updated_at = $3 WHERE id = $1`, [row.id, error, now()]);
          await this.publish(tx, { id: row.id, type: 'failed', data: { error } });
          failed.push(row.id);
        } else {
          await tx.query(`UPDATE jobs SET status = 'queued', progress = 0, best_loss = NULL, owner = NULL, heartbeat_at = NULL, updated_at = $2 WHERE id = $1`, [row.id, now()]);
          await this.deliver(tx, row.kind, row.id);
          requeued.push(row.id);
        }
      }
      return { requeued, failed };
    });
  }

  async recoverAlone(maxAttempts: number, interruptedTwice: string): Promise<{ resumed: number; failed: number }> {
    return transaction(this.pool, async (tx) => {
      const failed = await tx.query(
        `UPDATE jobs SET status = 'failed', error = $2, owner = NULL, updated_at = $3 WHERE status = 'running' AND attempts >= $1 RETURNING id`,
        [maxAttempts, interruptedTwice, now()],
      );
      await tx.query(`UPDATE jobs SET status = 'queued', progress = 0, best_loss = NULL, owner = NULL, heartbeat_at = NULL, updated_at = $1 WHERE status = 'running'`, [now()]);
      const { rows } = await tx.query<{ id: number; kind: string }>(`SELECT id, kind FROM jobs WHERE status = 'queued' ORDER BY id`);
      for (const row of rows) await this.deliver(tx, row.kind, row.id);
      return { resumed: rows.length, failed: failed.rowCount ?? 0 };
    });
  }

  listen(listener: (event: QueueEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop taking deliveries (the running handlers are the caller's to stop first), then close pg-boss and LISTEN. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.started) return;
    await this.started.catch(() => {});
    await this.boss.stop({ graceful: true, wait: true, timeout: 2000 }).catch((error: Error) => process.emitWarning(`job queue: stopping pg-boss: ${error.message}`));
    await this.listenClient?.end().catch(() => {});
  }
}

