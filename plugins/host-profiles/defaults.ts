/**
 * Built-in templates used when a profile gives a kernel but no template of its own. They render with
 * the same variables as the templates plugin (`profile` = the matched profile).
 */
export const DEFAULT_IPXE = `#!ipxe
# pxekit host-profiles: {{profile.name}} for {{mac}}
kernel {{profile.kernel}}{{#if profile.cmdline}} {{profile.cmdline}}{{/if}}
{{#each profile.initrd}}initrd {{this}}
{{/each}}boot
`;

/** GRUB 2 (`linux`/`initrd` work for BIOS and UEFI GRUB ≥ 2.04). */
export const DEFAULT_GRUB = `# pxekit host-profiles: {{profile.name}} for {{mac}}
set default=0
set timeout=0
menuentry "{{profile.name}}" {
  linux {{profile.kernel}}{{#if profile.cmdline}} {{profile.cmdline}}{{/if}}
{{#if profile.initrd.length}}
  initrd {{join profile.initrd " "}}
{{/if}}
}
`;

/** pxelinux/syslinux: initrds go in APPEND as `initrd=a,b` (understood by every syslinux version). */
export const DEFAULT_PXELINUX = `# pxekit host-profiles: {{profile.name}} for {{mac}}
DEFAULT {{profile.name}}
LABEL {{profile.name}}
  KERNEL {{profile.kernel}}
  APPEND{{#if profile.initrd.length}} initrd={{join profile.initrd ","}}{{/if}}{{#if profile.cmdline}} {{profile.cmdline}}{{/if}}
`;
