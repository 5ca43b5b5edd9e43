import {Ajv, type KeywordDefinition} from 'ajv'
import addFormatsModule from 'ajv-formats'

// ajv-formats is CommonJS: under NodeNext the default import is `module.exports`, which carries the plugin as
// `.default` too (its dist/index.js sets both).
const addFormats = addFormatsModule.default

/**
 * The `x-cardform-*` keywords carry field semantics for the engine (schemas/*.schema.json). They never change
 * whether a document is valid, so they are registered as annotation-only keywords: ajv's strict mode still rejects
 * a misspelt keyword (`x-cardform-imutable` is unknown), and each keyword's meta-schema rejects a malformed value
 * when the schema is compiled.
 */
const trueOnly = {const: true}

export const CARDFORM_KEYWORDS: readonly KeywordDefinition[] = [
  {keyword: 'x-cardform-server-computed', schemaType: 'boolean', metaSchema: trueOnly},
  {
    keyword: 'x-cardform-immutable',
    schemaType: ['boolean', 'object'],
    metaSchema: {
      anyOf: [
        trueOnly,
        {
          type: 'object',
          required: ['when'],
          additionalProperties: false,
          properties: {
            when: {
              type: 'array',
              minItems: 1,
              items: {type: 'object', minProperties: 1, additionalProperties: false, properties: {from: {}, to: {}}},
            },
          },
        },
      ],
    },
  },
  {
    keyword: 'x-cardform-one-way',
    schemaType: ['boolean', 'object'],
    metaSchema: {
      anyOf: [trueOnly, {type: 'object', required: ['on'], additionalProperties: false, properties: {on: {}}}],
    },
  },
  {keyword: 'x-cardform-write-only', schemaType: 'boolean', metaSchema: trueOnly},
  {keyword: 'x-cardform-patch-only', schemaType: 'boolean', metaSchema: trueOnly},
  {keyword: 'x-cardform-endpoint', schemaType: 'string', metaSchema: {type: 'string', pattern: '^[a-z][a-z0-9-]*$'}},
  {keyword: 'x-cardform-managed', schemaType: 'boolean', metaSchema: trueOnly},
  // Any JSON value: the value the server fills in when the field is omitted.
  {keyword: 'x-cardform-server-default'},
  {keyword: 'x-cardform-long-text', schemaType: 'boolean', metaSchema: trueOnly},
  {keyword: 'x-cardform-list-key', schemaType: 'string', metaSchema: {type: 'string', minLength: 1}},
  {keyword: 'x-cardform-title', schemaType: 'boolean', metaSchema: trueOnly},
  {
    // The field is the card's review (审核) status: which of its values mean in review, failed, approved.
    keyword: 'x-cardform-review',
    schemaType: 'object',
    metaSchema: {
      type: 'object',
      required: ['pending', 'failed', 'approved'],
      additionalProperties: false,
      properties: {
        pending: {type: 'array', minItems: 1, items: {type: 'string'}},
        failed: {type: 'array', minItems: 1, items: {type: 'string'}},
        approved: {type: 'array', minItems: 1, items: {type: 'string'}},
      },
    },
  },
  {
    keyword: 'x-cardform-image',
    schemaType: 'object',
    metaSchema: {
      type: 'object',
      required: ['formats', 'max_bytes'],
      additionalProperties: false,
      properties: {
        formats: {type: 'array', minItems: 1, uniqueItems: true, items: {enum: ['jpg', 'png', 'bmp']}},
        max_bytes: {type: 'integer', minimum: 1},
        width: {type: 'integer', minimum: 1},
        height: {type: 'integer', minimum: 1},
        pixels: {enum: ['required', 'recommended']},
      },
      dependencies: {width: ['height'], height: ['width'], pixels: ['width']},
    },
  },
  {
    keyword: 'x-cardform-kind',
    schemaType: 'object',
    metaSchema: {
      type: 'object',
      required: ['family', 'remove', 'create_only'],
      additionalProperties: false,
      properties: {
        $comment: {type: 'string'},
        family: {enum: ['membercard-open', 'brand-partner', 'aggregator']},
        remove: {enum: ['delete', 'invalidate', 'none']},
        create_only: {type: 'boolean'},
        patch_response: {enum: [200, 204]},
      },
      // A kind that can be updated must say what its PATCH answers; a create-only kind has no PATCH.
      if: {properties: {create_only: {const: false}}},
      then: {required: ['patch_response']},
    },
  },
]

/**
 * The one ajv set-up for cardform documents: all errors at once (a user fixes a file in one pass), strict mode (a
 * typo in a schema is our bug and must fail loudly), RFC 3339 `date-time` and `uri` from ajv-formats, and the
 * cardform annotation keywords.
 *
 * `strictRequired` is the one strict check turned off: ajv 8 forgets the parent's `properties` when a `required`
 * list sits inside `if`/`then` (it resets `definedProperties` while descending into each property), so the
 * conditional rules the schemas rely on ("need_display_level true requires init_level") would not compile. The
 * same guarantee, every required name is a declared property, is checked by test/unit/schemas/schema-lint.test.ts.
 */
export function createAjv(): Ajv {
  const ajv = new Ajv({allErrors: true, strict: true, strictRequired: false})
  addFormats(ajv)
  for (const definition of CARDFORM_KEYWORDS) ajv.addKeyword(definition)
  return ajv
}
