/**
 * ISC Kea 2.2 (Debian kea-dhcp4-server) as a second DHCP reference: memfile lease database
 * (persisted, appended per change), the bench's relayed pool, warnings-only logging.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { which } from '../../test/helpers/realnet.js';
import type { Target } from '../lib/types.js';

export function keaDhcp(): Target {
  return {
    name: 'kea',
    note: 'kea-dhcp4, memfile leases persisted',
    services: ['dhcp'],
    unavailable: () => (which('kea-dhcp4') ? undefined : 'kea-dhcp4 not installed (kea-dhcp4-server)'),
    prepare(ctx) {
      const pool = ctx.pool;
      if (!pool) throw new Error('keaDhcp needs ctx.pool');
      const conf = path.join(ctx.workDir, 'kea-dhcp4.json');
      writeFileSync(
        conf,
        JSON.stringify(
          {
            Dhcp4: {
              'interfaces-config': { interfaces: ['eth0'] },
              'lease-database': {
                type: 'memfile',
                persist: true,
                name: path.join(ctx.workDir, 'leases4.csv'),
                'lfc-interval': 0,
              },
              'valid-lifetime': 3600,
              subnet4: [
                {
                  id: 1,
                  subnet: pool.subnet,
                  pools: [{ pool: `${pool.first} - ${pool.last}` }],
                  'option-data': [{ name: 'routers', data: pool.router }],
                },
              ],
              loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'WARN' }],
            },
          },
          null,
          2,
        ),
      );
      return {
        cmd: 'kea-dhcp4',
        args: ['-c', conf],
        // Kea writes its PID and lock files under /run/kea unless told otherwise.
        env: { ...process.env, KEA_PIDFILE_DIR: ctx.workDir, KEA_LOCKFILE_DIR: ctx.workDir },
        ready: (c) => c.lan.waitForUdpListen(c.lan.srvNs, 67, 15_000),
      };
    },
  };
}
