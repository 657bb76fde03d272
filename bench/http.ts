/**
 * HTTP benchmark: curl downloads a 1 GiB file (sparse, so it is served from the page cache)
 * once to warm up, then three times from each target; the median rate is reported, with peak server RSS.
 * pxekit serves it from disk, and (issue 6) from S3 (s3rver) and git: targets/pxekit-sources.ts.
 * Usage: node --import tsx bench/http.ts   (BENCH_TARGETS=nginx,pxekit,pxekit-s3,pxekit-git to choose)
 */
import path from 'node:path';
import { benchDir, withBenchLan, isMain, progress, selectTargets } from './lib/bench-lan.js';
import { curlOnce, MiB, writeSparseFile, type Transfer } from './lib/loads.js';
import { printTable } from './lib/report.js';
import { startServer, type BaseContext } from './lib/server.js';
import type { Row, Target } from './lib/types.js';
import { nginxHttp, pythonHttp } from './targets/http-servers.js';
import { pxekitTarget } from './targets/pxekit.js';
import { pxekitGitTarget, pxekitS3Target } from './targets/pxekit-sources.js';

const SIZE = 1024 * MiB;
const RUNS = 3;

const FILE = 'big.bin';

/** nginx first (the reference), then pxekit from disk, S3 (s3rver) and git (issue 6). */
export const httpTargets = (): Target[] => [
  nginxHttp(),
  pythonHttp(),
  pxekitTarget(),
  pxekitS3Target(FILE),
  pxekitGitTarget(FILE),
];

export async function runHttpBench(targets = selectTargets(httpTargets())): Promise<Row[]> {
  const root = benchDir('http-files');
  writeSparseFile(path.join(root, FILE), SIZE);
  return withBenchLan({ name: 'pxbhttp', cliIp: '10.77.0.2/24', taps: 0 }, ['curl'], async (lan) => {
    const base: BaseContext = { lan, service: 'http', root };
    const rows: Row[] = [];
    for (const t of targets) {
      const row = (
        metric: string,
        unit: string,
        value: number | undefined,
        note: string,
        higherIsBetter = true,
      ): Row => ({ bench: 'http', metric, unit, target: t.name, value, note, higherIsBetter });
      let server;
      try {
        server = await startServer(t, base);
      } catch (e) {
        progress(`http ${t.name}: skipped: ${(e as Error).message}`);
        rows.push(
          row('curl 1 GiB (median of 3)', 'MiB/s', undefined, `skipped: ${(e as Error).message.slice(0, 200)}`),
        );
        continue;
      }
      try {
        progress(`http ${t.name}: 1 warm-up + ${RUNS} x 1 GiB`);
        await curlOnce(lan, `http://${lan.srvAddr}/${FILE}`, SIZE, [], 60); // page cache, first-connection costs
        const runs: Transfer[] = [];
        for (let i = 0; i < RUNS; i++) runs.push(await curlOnce(lan, `http://${lan.srvAddr}/${FILE}`, SIZE, [], 60));
        const ok = runs
          .filter((r) => !r.failed)
          .map((r) => r.mibps)
          .sort((a, b) => a - b);
        const failed = runs.filter((r) => r.failed);
        rows.push(
          row(
            'curl 1 GiB (median of 3)',
            'MiB/s',
            ok.length ? ok[Math.floor(ok.length / 2)] : undefined,
            failed.length
              ? `${failed.length} failed: ${failed[0]?.detail}`
              : `runs ${ok.map((v) => v.toFixed(0)).join(', ')}`,
          ),
        );
      } finally {
        rows.push(row('peak RSS', 'MiB', server.peakRssKiB() / 1024, t.note, false));
        await server.stop();
      }
    }
    return rows;
  });
}

if (isMain(import.meta.url)) {
  runHttpBench()
    .then((rows) => printTable('HTTP', rows))
    .catch((e: Error) => {
      process.stderr.write(`bench http failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
