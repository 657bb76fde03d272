// Loads the local third-party plugin next to this file by relative path.
export default {
  dhcp: { mode: 'off' },
  tftp: { enabled: false },
  http: { enabled: false },
  log: { level: 'silent' },
  plugins: [['./rack-labels.mjs', { racks: { '52:54:00:12:34:56': 'r1' } }]],
};
