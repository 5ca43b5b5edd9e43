import * as precompiled from '../generated/validators/precompiled.js'
import {readSchemaSet} from './schema-set.js'
import {createSpecValidator, type PrecompiledValidators, type SpecValidator} from './spec-validator.js'

/** The validator for the package's own schemas, with the validation functions compiled ahead of time. */
export function createDefaultSpecValidator(): SpecValidator {
  return createSpecValidator(readSchemaSet(), precompiled as unknown as PrecompiledValidators)
}
