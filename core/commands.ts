/**
 * Registers the core's extra CLI subcommands (explain, validate). Each lives next to its feature and adds itself to
 * `extraCommands`; this file only imports them so `pxekit --help` lists them. Plugins contribute their
 * commands through the plugin contract instead (`commands` in definePlugin, core/plugin-command.ts).
 */
import './explain/cli.js';
import './validate/cli.js';

export {};
