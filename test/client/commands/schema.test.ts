import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { releaseJsonSchema } from '../../../src/client/commands/schema';

const checkedIn = join(__dirname, '../../../examples/release.schema.json');

type JsonSchema = {
  $schema?: string;
  $id?: string;
  title?: string;
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: unknown[];
  description?: string;
  default?: unknown;
};

describe('releaseJsonSchema', () => {
  const schema = releaseJsonSchema() as JsonSchema;

  it('is a JSON Schema of the release spec with its id and title', () => {
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://meridian.dev/schemas/release.v1alpha1.json',
      title: 'Meridian release spec',
      type: 'object',
      additionalProperties: false,
    });
    expect(Object.keys(schema.properties!)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(schema.required).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'metadata', 'spec']));
  });

  it('describes the spec as written, with strict objects, enums and the field docs for editors', () => {
    const spec = schema.properties!.spec;
    const region = spec.properties!.regions.items!;
    expect(region.additionalProperties).toBe(false);
    expect(region.required).toEqual(expect.arrayContaining(['name', 'cluster', 'registry', 'endpoint', 'traits']));
    expect(region.required).not.toContain('canary');
    expect(region.properties!.name.description).toBe('Region name, unique in the release');
    // Input side: a duration is the text a person writes, not the milliseconds it becomes.
    expect(spec.properties!.rollout.properties!.canarySoak).toMatchObject({ type: 'string' });
    expect(spec.properties!.rollout.properties!.onFailure).toMatchObject({
      enum: ['rollback-region', 'halt', 'rollback-all'],
      default: 'rollback-region',
    });
  });

  it('is what examples/release.schema.json holds', () => {
    const onDisk = readFileSync(checkedIn, 'utf8');
    const current = `${JSON.stringify(schema, null, 2)}\n`;
    if (onDisk !== current) {
      throw new Error(
        'examples/release.schema.json is out of date with the release spec schema: run `./bin/meridian schema > examples/release.schema.json` (after `npm run build`) and commit it',
      );
    }
  });
});
