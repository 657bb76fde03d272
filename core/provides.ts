import { PxeError } from './errors.js';
import type { LeaseStore } from './dhcp/leases/store.js';

/**
 * What plugins offer each other (and the core), by name: the declared interface between plugins. A
 * plugin that offers something lists its name in `provides` and hands the value over with
 * `ctx.provide(name, value)` in `apply`; another plugin lists the provider in `dependencies` (or
 * `optionalDependencies`) and reads it with `ctx.use(name)`. No fields on the server, no side channels.
 *
 * Each name has one type. A plugin that provides something declares it by augmenting this interface
 * from its own module, so every user of the name is type-checked against the same type:
 *
 * ```ts
 * declare module 'pxekit' {
 *   interface Provides {
 *     intents: IntentStore; // boot-intents
 *   }
 * }
 * ```
 */
export interface Provides {
  /**
   * The DHCP lease store (full mode), used by the core instead of the in-memory one. One per server: a
   * second provider is an error naming both plugins (lease-file, lease-redis).
   */
  leaseStore: LeaseStore;
}

/** A name in {@link Provides}. */
export type ProvideName = keyof Provides & string;

/** Who may use what: a plugin's declared `provides` and dependencies, as `applyPlugins` hands them over. */
export interface ProvideDeclaration {
  name: string;
  provides?: readonly string[];
  dependencies?: readonly string[];
  optionalDependencies?: readonly string[];
}

/** Plugin names compare without the instance suffix: `source-disk#ipxe` is a `source-disk`. */
const baseName = (name: string) => (name.includes('#') ? name.slice(0, name.indexOf('#')) : name);

/**
 * The values plugins provided on one server. The core reads it (`server.provided.get('leaseStore')`), as
 * do programs and tests embedding pxekit; plugins go through `ctx.provide` / `ctx.use`, which check the
 * declarations.
 */
export class ProvidedRegistry {
  readonly #values = new Map<string, { value: unknown; by: string }>();
  /** Name → the plugin that declared it in `provides`, for every configured plugin (known before any applies). */
  readonly #declaredBy = new Map<string, string>();
  readonly #applied = new Set<string>();

  /** Records every plugin's declarations; two plugins declaring the same name is an error naming both. */
  declare(plugins: readonly ProvideDeclaration[]): void {
    for (const p of plugins) {
      for (const name of p.provides ?? []) {
        const first = this.#declaredBy.get(name);
        if (first !== undefined) {
          throw new PxeError(
            'PXE_ERR_PLUGIN_PROVIDES',
            `plugins "${first}" and "${p.name}" both provide "${name}"; a server has one`,
            { fix: `configure only one of them`, details: { name, first, second: p.name } },
          );
        }
        this.#declaredBy.set(name, p.name);
      }
    }
  }

  /** Marks a plugin's `apply` as done: what it declared but did not provide is now known to be missing. */
  applied(plugin: string): void {
    this.#applied.add(plugin);
  }

  /** The value provided under `name`, if any. */
  get<K extends ProvideName>(name: K): Provides[K] | undefined {
    return this.#values.get(name)?.value as Provides[K] | undefined;
  }

  /** The plugin that provided (or declared) `name`. */
  providerOf(name: string): string | undefined {
    return this.#values.get(name)?.by ?? this.#declaredBy.get(name);
  }

  /** `ctx.provide`: only a name the plugin declared in `provides`, once. */
  provide<K extends ProvideName>(by: ProvideDeclaration, name: K, value: Provides[K]): void {
    if (!(by.provides ?? []).includes(name)) {
      throw new PxeError('PXE_ERR_PLUGIN_PROVIDES', `plugin "${by.name}" provides "${name}" without declaring it`, {
        fix: `add provides: ['${name}'] to the plugin's definition`,
        details: { plugin: by.name, name },
      });
    }
    if (this.#applied.has(by.name)) {
      throw new PxeError('PXE_ERR_SERVER_STATE', `plugin "${by.name}" provided "${name}" after its apply()`, {
        fix: 'call ctx.provide in apply(), so plugins and the core find it before the server starts',
        details: { plugin: by.name, name },
      });
    }
    if (this.#values.has(name)) {
      throw new PxeError('PXE_ERR_PLUGIN_PROVIDES', `plugin "${by.name}" provided "${name}" twice`, {
        fix: 'call ctx.provide once per name, in apply()',
        details: { plugin: by.name, name },
      });
    }
    this.#values.set(name, { value, by: by.name });
  }

  /**
   * `ctx.use`: the value under `name`, from a plugin the user declared among its dependencies. Throws
   * (PXE_ERR_PLUGIN_DEPENDENCY) when the provider is not declared, or when nothing provides the name
   * unless `optional`; throws when the provider is configured but has not applied yet (it is listed
   * later: use it from a `ready` tap).
   */
  use<K extends ProvideName>(user: ProvideDeclaration, name: K, optional: boolean): Provides[K] | undefined {
    const provider = this.providerOf(name);
    if (provider === undefined) {
      if (optional) return undefined;
      throw new PxeError(
        'PXE_ERR_PLUGIN_DEPENDENCY',
        `plugin "${user.name}" uses "${name}", which no configured plugin provides`,
        {
          fix: `add the plugin that provides "${name}" to plugins (see the README of "${user.name}")`,
          details: { plugin: user.name, name },
        },
      );
    }
    const declared = [...(user.dependencies ?? []), ...(user.optionalDependencies ?? [])];
    if (!declared.includes(baseName(provider))) {
      throw new PxeError(
        'PXE_ERR_PLUGIN_DEPENDENCY',
        `plugin "${user.name}" uses "${name}" from plugin "${provider}" without declaring it`,
        {
          fix: `add '${baseName(provider)}' to the dependencies (or optionalDependencies) of "${user.name}"`,
          details: { plugin: user.name, name, provider },
        },
      );
    }
    const entry = this.#values.get(name);
    if (entry) return entry.value as Provides[K];
    if (this.#applied.has(provider)) {
      if (optional) return undefined;
      throw new PxeError('PXE_ERR_PLUGIN_DEPENDENCY', `plugin "${provider}" declares "${name}" but provided none`, {
        fix: `report it to the author of "${provider}": it must call ctx.provide('${name}', …) in apply()`,
        details: { plugin: user.name, name, provider },
      });
    }
    throw new PxeError(
      'PXE_ERR_PLUGIN_DEPENDENCY',
      `plugin "${user.name}" uses "${name}" before "${provider}" applied (it is listed later)`,
      {
        fix: `call ctx.use('${name}') in a server.hooks.ready tap (every plugin has applied by then), or list "${provider}" first`,
        details: { plugin: user.name, name, provider },
      },
    );
  }
}
