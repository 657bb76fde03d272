// The layering of core/, checked by test/unit/core/layering.test.ts (npm test) and `npx depcruise core`.
// See docs/conventions.md: protocol engines below the server, no import cycles.

// PxeServer, PluginDefinition (with its PluginCommand and PluginCheck) and PxeConfig name each other in their types
// (a plugin's apply() takes the server, the config lists plugins, a command or a check reads the config, the server
// takes the config): type references only, erased at run time.
const TYPE_KNOT = '^core/(server|plugin|plugin-command|plugin-check|config/types)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'No import cycle in core/ through value imports (load order must not matter).',
      from: { path: '^core/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-type-cycle',
      severity: 'error',
      comment: 'No cycle of type imports either, except the three public types above that name each other.',
      from: { path: '^core/', pathNot: TYPE_KNOT },
      to: { circular: true },
    },
    {
      name: 'no-type-cycle-outside-knot',
      severity: 'error',
      comment: 'A cycle through the server/plugin/config types may not pass through any other module.',
      from: { path: TYPE_KNOT },
      to: { circular: true, via: { pathNot: TYPE_KNOT } },
    },
    {
      name: 'protocols-below-server',
      severity: 'error',
      comment:
        'core/dhcp, core/dhcp6, core/tftp and core/http know nothing of the server, plugins or config: they get a ' +
        'ProtocolHost (core/hooks/host.ts) and their own config section type from core/services.',
      from: { path: '^core/(dhcp|dhcp6|tftp|http)/' },
      to: {
        path: '^core/((server|plugin|index|kit|testing|from-config|cli|commands|log)[.]ts$|(config|services|explain|boot|testing|kit|session/intent)[^/]*/?)',
      },
    },
    {
      name: 'protocols-apart',
      severity: 'error',
      comment: 'Each protocol engine loads alone: no protocol folder imports another.',
      from: { path: '^core/(dhcp|dhcp6|tftp|http)/' },
      to: { path: '^core/(dhcp|dhcp6|tftp|http)/', pathNot: '^core/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['source', 'import', 'default'] },
  },
};
