import { z } from 'zod';
import { releaseSpecSchema } from '../../domain/release-spec';
import type { CommandContext } from '../command';

/** The release spec's JSON Schema, for editors (e.g. the yaml-language-server `$schema` comment). */
export function releaseJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(releaseSpecSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://meridian.dev/schemas/release.v1alpha1.json',
    title: 'Meridian release spec',
  };
}

/** `meridian schema`: prints the JSON Schema of the release spec. */
export async function schemaCommand(_options: object, _args: string[], ctx: CommandContext): Promise<number> {
  ctx.out(`${JSON.stringify(releaseJsonSchema(), null, 2)}\n`);
  return 0;
}
