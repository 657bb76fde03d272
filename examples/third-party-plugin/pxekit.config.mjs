// Loads the third-party plugin next to this file by relative path (a published one is listed by its
// package name instead: ['pxekit-plugin-rack-labels', { ... }]).
export default {
  dhcp: { mode: 'off' },
  tftp: { enabled: false },
  http: { enabled: false },
  log: { level: 'silent' },
  plugins: [['./index.ts', { racks: { '52:54:00:12:34:56': 'r1', '52:54:00:ab:*': 'r2' } }]],
};
