/**
 * HTTP references: nginx-light 1.22 (sendfile, no access log, one worker) and python3's
 * http.server (a simple single-process server, for scale).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { which } from '../../test/helpers/realnet.js';
import type { Target } from '../lib/types.js';

export function nginxHttp(): Target {
  return {
    name: 'nginx',
    note: 'sendfile on, 1 worker, access log off',
    services: ['http'],
    unavailable: () => (which('nginx') ? undefined : 'nginx not installed (nginx-light)'),
    prepare(ctx) {
      const conf = path.join(ctx.workDir, 'nginx.conf');
      const w = ctx.workDir;
      writeFileSync(
        conf,
        `daemon off;
master_process on;
worker_processes 1;
user root;
pid ${w}/nginx.pid;
error_log ${w}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${w}/body;
  proxy_temp_path ${w}/proxy;
  fastcgi_temp_path ${w}/fastcgi;
  uwsgi_temp_path ${w}/uwsgi;
  scgi_temp_path ${w}/scgi;
  server {
    listen ${ctx.lan.srvAddr}:80;
    root ${ctx.root};
  }
}
`,
      );
      return {
        cmd: 'nginx',
        args: ['-c', conf, '-p', w],
        ready: (c) => c.lan.waitForTcpListen(c.lan.srvNs, 80, 10_000),
      };
    },
  };
}

export function pythonHttp(): Target {
  return {
    name: 'python-http',
    note: 'python3 -m http.server',
    services: ['http'],
    unavailable: () => (which('python3') ? undefined : 'python3 not installed'),
    prepare(ctx) {
      return {
        cmd: which('python3') ?? 'python3',
        args: ['-m', 'http.server', '--bind', ctx.lan.srvAddr, '--directory', ctx.root, '80'],
        ready: (c) => c.lan.waitForTcpListen(c.lan.srvNs, 80, 10_000),
      };
    },
  };
}
