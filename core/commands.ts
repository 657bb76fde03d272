/**
 * Registers extra CLI subcommands (explain, audit verify, intent ...). Each lives next to its feature and
 * adds itself to `extraCommands`; this file only imports them so `pxekit --help` lists them.
 */
import './session/intent-cli.js';
import './audit/cli.js';
import './explain/cli.js';

export {};
