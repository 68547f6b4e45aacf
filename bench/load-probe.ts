/**
 * The /health probe of bench/load.ts, in its own process: measured from a process whose event loop is
 * not busy generating the load (autocannon at 50 connections keeps a core busy, and a probe sharing
 * that loop would time its own lag). Prints one JSON line: p50, p99, max, errors, 5xx, requests.
 *
 *   node --import tsx bench/load-probe.ts <url> <seconds> <requests per second>
 */
import autocannon from 'autocannon';

const [url, seconds, rate] = process.argv.slice(2);
autocannon({ url: url!, duration: Number(seconds), connections: 1, overallRate: Number(rate) }, (error, result) => {
  if (error) throw error;
  const { p50, p99, max } = result.latency;
  console.log(JSON.stringify({ p50, p99, max, errors: result.errors + result.timeouts, fiveXx: result['5xx'], requests: result.requests.total }));
});
