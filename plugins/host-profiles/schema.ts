/** JSON Schema of the host-profiles options (every property described: it becomes the docs). */
const templateText = (what: string) => ({
  type: 'string',
  description: `${what} template text (handlebars; same variables as the templates plugin)`,
});
const templateFile = (what: string) => ({
  type: 'string',
  minLength: 1,
  description: `${what} template file, relative to dir`,
});
const selectorValue = {
  oneOf: [
    { type: 'string' },
    { type: 'integer' },
    { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'integer' }] }, minItems: 1 },
  ],
};

export const hostProfilesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['groups', 'profiles'],
  properties: {
    groups: {
      type: 'array',
      description: 'selector groups; the group whose selector matches the most keys wins, ties go to the first listed',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'profile'],
        properties: {
          name: { type: 'string', minLength: 1, description: 'group name (logs)' },
          profile: { type: 'string', minLength: 1, description: 'name of a profile in profiles' },
          selector: {
            type: 'object',
            default: {},
            description:
              'all keys must match: mac (MAC, OUI or pattern), arch (number), archName, firmware, ' +
              'vendorClass, userClass, guid, hostname (globs), any other key = a session label (glob); ' +
              'a list means any of; empty = everyone',
            additionalProperties: selectorValue,
          },
        },
      },
    },
    profiles: {
      type: 'object',
      description: 'profile name → what to boot',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          kernel: {
            type: 'string',
            minLength: 1,
            description: 'kernel path or URL (used by the built-in iPXE/GRUB/pxelinux templates)',
          },
          initrd: {
            type: 'array',
            items: { type: 'string', minLength: 1 },
            default: [],
            description: 'initrd paths or URLs',
          },
          cmdline: { type: 'string', default: '', description: 'kernel command line' },
          script: templateText('iPXE script'),
          scriptFile: templateFile('iPXE script'),
          grub: templateText('grub.cfg'),
          grubFile: templateFile('grub.cfg'),
          pxelinux: templateText('pxelinux config'),
          pxelinuxFile: templateFile('pxelinux config'),
          vars: { type: 'object', default: {}, description: 'free values templates see as profile.vars' },
        },
      },
    },
    scriptPath: {
      type: 'string',
      pattern: '^/',
      default: '/boot.ipxe',
      description: 'path of the per-host iPXE script (HTTP script hook; also over TFTP)',
    },
    grubPrefix: {
      type: 'string',
      pattern: '^/',
      default: '/grub',
      description: 'GRUB $prefix: serves <prefix>/grub.cfg-01-<mac-dashes>, grub.cfg-<mac> and grub.cfg',
    },
    pxelinuxPrefix: {
      type: 'string',
      pattern: '^/',
      default: '/pxelinux.cfg',
      description: 'serves <prefix>/01-<mac-dashes> and <prefix>/default',
    },
    dir: { type: 'string', minLength: 1, description: 'folder for *File templates; relative to the config file' },
  },
} as const;
