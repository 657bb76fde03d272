import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'pxekit';
import { createTestServer, type TestServer } from 'pxekit/testing';
import { requestFrom } from '../../test/helpers/fixtures.js';
import bootByArch from 'pxekit/plugins/boot-by-arch';
import templates from 'pxekit/plugins/templates';
import hostProfiles, { type HostProfilesOptions } from './index.js';

const quiet = {
  log: { level: 'silent' as const },
  dhcp: { mode: 'off' as const },
  tftp: { enabled: false },
  http: { enabled: false, baseUrl: 'http://10.77.0.1' },
};

/** The body of an HTTP GET from `ip` ('' when not 200). */
const script = async (server: TestServer, path: string, ip = '10.77.0.128') => {
  const r = await server.http({ path, remoteAddress: ip });
  return r.status === 200 ? r.body.toString() : '';
};
/** A TFTP read from `ip`: the file's text and its announced tsize, or the error code. */
const tftp = async (server: TestServer, path: string, ip = '10.77.0.9') => {
  const r = await server.tftp({ path, options: { tsize: '0' }, remoteAddress: ip });
  return { text: r.data?.toString() ?? '', tsize: Number(r.oack?.['tsize']), errorCode: r.errorCode };
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
  const server = await createTestServer({ http: { baseUrl: 'http://10.77.0.1' }, plugins: [hostProfiles(options)] });
  t.after(() => server.close());
  await requestFrom(server, 'uefi-edk2-discover', '10.77.0.128');
  assert.equal(
    await script(server, '/boot.ipxe'),
    '#!ipxe\n# pxekit host-profiles: worker for 52:54:00:77:ef:64\nkernel ' +
      'http://10.77.0.1/k/vmlinuz console=ttyS0 role=worker\ninitrd /k/initrd.img\ninitrd ' +
      '/k/extra.img\nboot\n',
  );

  // arm64 EDK2 (52:54:00:77:aa:64): uefi-lab (2 keys) beats everyone (0); x64-* does not match.
  await requestFrom(server, 'arm64-edk2-discover', '10.77.0.112');
  assert.match(
    await script(server, '/boot.ipxe', '10.77.0.112'),
    /installer for 52:54:00:77:aa:64\nkernel \/inst\/vmlinuz auto=true\ninitrd \/inst\/initrd.gz/,
  );

  // BIOS (firmware bios): only "everyone" matches; then a label puts it in "rack" (1 key > 0).
  await requestFrom(server, 'bios-ipxe-rom-discover', '10.77.0.165');
  assert.match(await script(server, '/boot.ipxe', '10.77.0.165'), /rescue/);
  server.server.sessions.get('52:54:00:77:b1:05')!.labels['rack'] = 'r12';
  assert.match(await script(server, '/boot.ipxe', '10.77.0.165'), /generic/);
  assert.equal((await server.http({ path: '/other.ipxe', remoteAddress: '10.77.0.165' })).status, 404);
});

test('GRUB and pxelinux config files over TFTP via files.resolve (by MAC in the name, or by client IP)', async (t) => {
  const server = await createTestServer({ http: { baseUrl: 'http://10.77.0.1' }, plugins: [hostProfiles(options)] });
  t.after(() => server.close());
  await requestFrom(server, 'arm64-edk2-discover', '10.77.0.112');
  const pxe = await tftp(server, '/pxelinux.cfg/01-52-54-00-77-aa-64');
  assert.equal(
    pxe.text,
    '# pxekit host-profiles: installer for 52:54:00:77:aa:64\nDEFAULT installer\nLABEL ' +
      'installer\n  KERNEL /inst/vmlinuz\n  APPEND initrd=/inst/initrd.gz auto=true\n',
  );
  assert.equal(pxe.tsize, Buffer.byteLength(pxe.text));
  const done = server.events.filter((e) => e.type === 'tftp.done').pop();
  assert.equal(done?.data['source'], 'host-profiles');

  assert.equal(
    (await tftp(server, '/grub/grub.cfg-01-52-54-00-77-aa-64')).text,
    '# pxekit host-profiles: installer for 52:54:00:77:aa:64\nset default=0\nset timeout=0\n' +
      'menuentry "installer" {\n  linux /inst/vmlinuz auto=true\n  initrd /inst/initrd.gz\n}\n',
  );
  assert.match((await tftp(server, '//grub/grub.cfg', '10.77.0.112')).text, /installer for 52:54:00:77:aa:64/);
  assert.equal((await tftp(server, '/grub/grub.cfg', '10.9.9.9')).errorCode, 1, 'no session: left to other sources');
  // GRUB's per-IP names: 10.77.0.112 = 0A4D0070, and each shortened form, for that client only.
  for (const name of ['0A4D0070', '0A4D007', '0A4D', '0'])
    assert.match((await tftp(server, `/grub/grub.cfg-${name}`, '10.77.0.112')).text, /installer for 52:54:00:77:aa:64/);
  // Per client UUID (option 97; QEMU's firmware sends all zeros), for the client that has it only.
  const zeros = '00000000-0000-0000-0000-000000000000';
  assert.match((await tftp(server, `/grub/grub.cfg-${zeros}`, '10.77.0.112')).text, /installer for 52:54:00:77:aa:64/);
  const other = '7726a678-7fc0-4853-a4f6-c85ac36a120a';
  assert.equal((await tftp(server, `/grub/grub.cfg-${other}`, '10.77.0.112')).errorCode, 1, 'another UUID');
  for (const name of ['0A4D0071', '0B', '0a4d0070'])
    assert.equal(
      (await tftp(server, `/grub/grub.cfg-${name}`, '10.77.0.112')).errorCode,
      1,
      `${name}: another address`,
    );
  // A MAC never seen in DHCP still matches by MAC/labels-free selectors (blank session: firmware unknown → "everyone").
  assert.match((await tftp(server, '/pxelinux.cfg/01-00-11-22-33-44-55')).text, /DEFAULT rescue/);
});

test('templates plugin sees the matched profile; profile template errors name the profile and line', async (t) => {
  const server = await createTestServer({
    http: { baseUrl: 'http://10.77.0.1' },
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
  t.after(() => server.close());
  await requestFrom(server, 'uefi-edk2-discover', '10.77.0.128');
  assert.equal(await script(server, '/profile.txt'), 'worker db ipxe.efi');
  assert.equal((await server.http({ path: '/boot.ipxe', remoteAddress: '10.77.0.128' })).status, 500);
  const error = server.events.find((e) => e.type === 'http.error');
  assert.equal(error?.plugin, 'host-profiles');
  assert.match(String(error?.data['message']), /template profile worker script line 3: "nope" not defined/);
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
