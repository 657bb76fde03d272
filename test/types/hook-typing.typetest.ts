// Compile-time checks (not run): each @ts-expect-error line must be a type error, or tsc fails.
// test/unit/core/types.test.ts runs tsc on this file.
import { definePlugin } from '../../core/index.js';

export const wrongArgs = definePlugin({
  name: 'wrong-args',
  apply(server) {
    // @ts-expect-error — admit taps receive an AdmitRequest, which has no `port`
    server.hooks.admit.tapPromise('wrong-args', async (req) => (req.port === 1 ? undefined : undefined));
    // @ts-expect-error — a tap's argument must accept the hook's argument type
    server.files.hooks.resolve.tapPromise('wrong-args', async (req: { path: number }) => {
      void req;
      return undefined;
    });
    // @ts-expect-error — selectBoot must return a BootSpec or undefined, not a string
    server.dhcp.hooks.selectBoot.tapPromise('wrong-args', async () => 'ipxe.efi');
    // @ts-expect-error — bootEvent is a sync hook taking one BootEvent
    void server.hooks.bootEvent.call('dhcp.offer');
    // A correct tap compiles:
    server.tftp.hooks.negotiate.tap('wrong-args', (n, req) => ({
      ...n,
      blksize: req.options['blksize'] ? 1024 : undefined,
    }));
  },
});

export const typedOptions = definePlugin<{ allow: string[] }>({
  name: 'typed-options',
  options: { allow: [] },
  apply(_server, { options }) {
    // @ts-expect-error — options are typed from the generic
    const n: number = options.allow;
    void n;
  },
});
