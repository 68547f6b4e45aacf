// Worker entry: registers tsx's loader in this thread (workers do not inherit the main thread's
// module hooks) and then loads the TypeScript module named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
