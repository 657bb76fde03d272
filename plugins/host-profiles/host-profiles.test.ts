import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../../core/server.js';
import { HookError } from '../../core/errors.js';
import { decide, fixtureContext } from '../../test/unit/boot/helpers.js';
import { httpContext, readHandle } from '../../test/unit/boot/http-context.js';
import bootByArch from '../boot-by-arch/index.js';
import templates from '../templates/index.js';
import hostProfiles, { type HostProfilesOptions } from './index.js';

const quiet = {
  log: { level: 'silent' as const },
  dhcp: { mode: 'off' as const },
  tftp: { enabled: false },
  http: { enabled: false, baseUrl: 'http://10.77.0.1' },
};

const options: Partial<HostProfilesOptions> = {
  groups: [
    { name: 'everyone', selector: {}, profile: 'rescue' },
    { name: 'uefi-lab', selector: { mac: '52:54:00:*', firmware: 'uefi' }, profile: 'installer' },
    { name: 'x64-uefi', selector: { archName: 'x64-*' }, profile: 'generic' },
    {
      name: 'this-host',
      selector: { mac: '52:54:00:77:ef:64', archName: 'x64-uefi', vendorClass: 'PXEClient:Arch:00007*' },
      profile: 'worker',
    },
    { name: 'rack', selector: { rack: 'r1*' }, profile: 'generic' },
  ],
  profiles: {
    rescue: { kernel: '/rescue/vmlinuz', initrd: [], cmdline: '', vars: {} },
    installer: { kernel: '/inst/vmlinuz', initrd: ['/inst/initrd.gz'], cmdline: 'auto=true', vars: {} },
    generic: { kernel: '/gen/vmlinuz', initrd: [], cmdline: '', vars: {} },
    worker: {
      kernel: 'http://10.77.0.1/k/vmlinuz',
      initrd: ['/k/initrd.img', '/k/extra.img'],
      cmdline: 'console=ttyS0 role=worker',
      vars: { role: 'worker' },
    },
  },
};

test('most specific group wins (count of matched keys; ties → config order); labels are selectors too', async (t) => {
  const server = createServer({ ...quiet, plugins: [hostProfiles(options)] });
  await server.start();
  t.after(() => server.close());
  fixtureContext(server, 'uefi-edk2-discover', { ip: '10.77.0.128' });
  const worker = await server.http.hooks.script.promise(undefined, httpContext(server, '/boot.ipxe'));
  assert.equal(
    worker?.body,
    '#!ipxe\n# pxekit host-profiles: worker for 52:54:00:77:ef:64\nkernel http://10.77.0.1/k/vmlinuz console=ttyS0 role=worker\ninitrd /k/initrd.img\ninitrd /k/extra.img\nboot\n',
  );

  // arm64 EDK2 (52:54:00:77:aa:64): uefi-lab (2 keys) beats everyone (0); x64-* does not match.
  fixtureContext(server, 'arm64-edk2-discover', { ip: '10.77.0.112' });
  assert.match(
    (await server.http.hooks.script.promise(undefined, httpContext(server, '/boot.ipxe', '10.77.0.112')))?.body ?? '',
    /installer for 52:54:00:77:aa:64\nkernel \/inst\/vmlinuz auto=true\ninitrd \/inst\/initrd.gz/,
  );

  // BIOS (firmware bios): only "everyone" matches; then a label puts it in "rack" (1 key > 0).
  const bios = fixtureContext(server, 'bios-ipxe-rom-discover', { ip: '10.77.0.165' });
  assert.match(
    (await server.http.hooks.script.promise(undefined, httpContext(server, '/boot.ipxe', '10.77.0.165')))?.body ?? '',
    /rescue/,
  );
  bios.session.labels['rack'] = 'r12';
  assert.match(
    (await server.http.hooks.script.promise(undefined, httpContext(server, '/boot.ipxe', '10.77.0.165')))?.body ?? '',
    /generic/,
  );
  assert.equal(
    await server.http.hooks.script.promise(undefined, httpContext(server, '/other.ipxe', '10.77.0.165')),
    undefined,
  );
});

test('GRUB and pxelinux config files over TFTP via files.resolve (by MAC in the name, or by client IP)', async (t) => {
  const server = createServer({ ...quiet, plugins: [hostProfiles(options)] });
  await server.start();
  t.after(() => server.close());
  fixtureContext(server, 'arm64-edk2-discover', { ip: '10.77.0.112' });
  const pxe = await server.files.resolve('/pxelinux.cfg/01-52-54-00-77-aa-64', { protocol: 'tftp' });
  assert.ok(pxe);
  const text = await readHandle(pxe);
  assert.equal(
    text,
    '# pxekit host-profiles: installer for 52:54:00:77:aa:64\nDEFAULT installer\nLABEL installer\n  KERNEL /inst/vmlinuz\n  APPEND initrd=/inst/initrd.gz auto=true\n',
  );
  assert.equal(pxe.size, Buffer.byteLength(text));
  assert.equal(pxe.source, 'host-profiles');

  const grub = await server.files.resolve('/grub/grub.cfg-01-52-54-00-77-aa-64', { protocol: 'tftp' });
  assert.equal(
    await readHandle(grub!),
    '# pxekit host-profiles: installer for 52:54:00:77:aa:64\nset default=0\nset timeout=0\nmenuentry "installer" {\n  linux /inst/vmlinuz auto=true\n  initrd /inst/initrd.gz\n}\n',
  );
  const byIp = await server.files.resolve('//grub/grub.cfg', { protocol: 'tftp', clientAddress: '10.77.0.112' });
  assert.match(await readHandle(byIp!), /installer for 52:54:00:77:aa:64/);
  assert.equal(
    await server.files.resolve('/grub/grub.cfg', { protocol: 'tftp', clientAddress: '10.9.9.9' }),
    undefined,
    'no session: left to other sources',
  );
  // GRUB's per-IP names: 10.77.0.112 = 0A4D0070, and each shortened form, for that client only.
  for (const name of ['0A4D0070', '0A4D007', '0A4D', '0']) {
    const f = await server.files.resolve(`/grub/grub.cfg-${name}`, { protocol: 'tftp', clientAddress: '10.77.0.112' });
    assert.match(await readHandle(f!), /installer for 52:54:00:77:aa:64/, name);
  }
  for (const name of ['0A4D0071', '0B', '0a4d0070']) {
    const f = await server.files.resolve(`/grub/grub.cfg-${name}`, { protocol: 'tftp', clientAddress: '10.77.0.112' });
    assert.equal(f, undefined, `${name} names another address: left to other sources`);
  }
  // A MAC never seen in DHCP still matches by MAC/labels-free selectors (blank session: firmware unknown → "everyone").
  assert.match(
    await readHandle((await server.files.resolve('/pxelinux.cfg/01-00-11-22-33-44-55', { protocol: 'tftp' }))!),
    /DEFAULT rescue/,
  );
});

test('templates plugin sees the matched profile; profile template errors name the profile and line', async (t) => {
  const server = createServer({
    ...quiet,
    plugins: [
      bootByArch(),
      hostProfiles({
        ...options,
        profiles: {
          ...options.profiles!,
          worker: {
            kernel: 'k',
            initrd: [],
            cmdline: '',
            vars: { role: 'db' },
            script: '#!ipxe\necho {{profile.vars.role}}\necho {{nope}}\n',
          },
        },
      }),
      templates({ files: { '/profile.txt': { inline: '{{profile.name}} {{profile.vars.role}} {{boot.file}}' } } }),
    ],
  });
  await server.start();
  t.after(() => server.close());
  await decide(server, fixtureContext(server, 'uefi-edk2-discover', { ip: '10.77.0.128' }));
  assert.equal(
    (await server.http.hooks.script.promise(undefined, httpContext(server, '/profile.txt')))?.body,
    'worker db ipxe.efi',
  );
  await assert.rejects(
    server.http.hooks.script.promise(undefined, httpContext(server, '/boot.ipxe')),
    (err: unknown) =>
      err instanceof HookError &&
      err.plugin === 'host-profiles' &&
      /template profile worker script line 3: "nope" not defined/.test(err.message),
  );
});

test('a group naming a missing profile or a bad MAC fails apply', () => {
  assert.throws(
    () =>
      createServer({
        ...quiet,
        plugins: [hostProfiles({ groups: [{ name: 'g', selector: {}, profile: 'x' }], profiles: {} })],
      }),
    /profile "x", which is not in profiles/,
  );
  assert.throws(
    () =>
      createServer({
        ...quiet,
        plugins: [
          hostProfiles({
            groups: [{ name: 'g', selector: { mac: '52:zz:*' }, profile: 'p' }],
            profiles: { p: { initrd: [], cmdline: '', vars: {} } },
          }),
        ],
      }),
    /52:zz/,
  );
});
