// Types of scripts/gen-types.mjs, for the test that regenerates the types in memory.
export function outputPathFor(schemaFile: string): string
export function bareRefs(node: unknown): unknown
export function generateTypes(root?: string): Promise<Map<string, string>>
