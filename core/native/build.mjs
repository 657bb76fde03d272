#!/usr/bin/env node
// Builds core/native/build/pxekit_native.node from the .c files here with the C compiler and the headers of the
// node that runs this script (npm's `install` script runs it during `npm ci`). Never fails the install:
// without a compiler or headers pxekit uses node:dgram and the thread pool for TFTP transfers (more CPU
// per packet, same behaviour) and says so at start. PXEKIT_NATIVE=0 skips the build; CC picks the compiler.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sources = [
  'addon.c',
  'poll-socket.c',
  'udp-socket.c',
  'udp-arm.c',
  'udp-batch.c',
  'uring.c',
  'file-window.c',
  'listen-socket.c',
  'file-read.c',
  'send-file.c',
  'send-worker.c',
  'dhcp-socket.c',
  'fault.c',
].map((f) => path.join(here, f));
const outDir = path.join(here, 'build');
const out = path.join(outDir, 'pxekit_native.node');
const say = (msg) => process.stderr.write(`pxekit native: ${msg}\n`);

function headers() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((d) => existsSync(path.join(d, 'node_api.h')) && existsSync(path.join(d, 'uv.h')));
}

function main() {
  if (process.env.PXEKIT_NATIVE === '0') return say('skipped (PXEKIT_NATIVE=0)');
  if (process.platform !== 'linux') return say(`skipped on ${process.platform}: TFTP uses node:dgram`);
  const inc = headers();
  if (!inc) return say('no node headers (node_api.h, uv.h) found next to this node: TFTP uses node:dgram');
  const cc = process.env.CC || 'cc';
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const args = [
    '-O2',
    '-std=gnu11',
    '-fPIC',
    '-pthread',
    '-shared',
    '-Wall',
    '-Wextra',
    '-Wno-unused-parameter',
    '-I',
    inc,
    '-o',
    tmp,
    ...sources,
  ];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(0, 20).join('\n');
    return say(
      `build failed (${cc}): TFTP uses node:dgram. Install a C compiler (Debian: build-essential) and run npm rebuild.\n${why}`,
    );
  }
  if (r.stderr.trim()) say(r.stderr.trim());
  renameSync(tmp, out); // atomic: a running server never loads a half-written file
  say(`built ${path.relative(process.cwd(), out)}`);
}

main();
