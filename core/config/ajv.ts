import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

const addFormats = ajvFormats.default; // NodeNext CJS interop: the plugin is module.exports.default

/** One Ajv for the core schema and every plugin's optionsSchema: all errors at once, defaults applied. */
export const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  verbose: true,
  strictTuples: false,
  allowUnionTypes: true,
});
addFormats(ajv);

const compiled = new WeakMap<object, ValidateFunction>();

/** Compiles a schema once (cached by object identity). */
export function compileSchema(schema: object): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}
