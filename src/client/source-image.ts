import { verifyImage } from '../activities/registry/copy-image';
import { credentialsFromEnv } from '../activities/registry/registry-auth';
import { RegistryError } from '../activities/registry/registry-client';
import { InvalidInputError } from '../domain/errors';
import type { ReleaseSpec } from '../domain/release-spec';

/**
 * Before a release starts: the image must be in the source registry, or nothing starts. A source this
 * machine cannot reach or may not read is only a warning: the workers may well reach it.
 */
export async function checkSourceImage(spec: ReleaseSpec, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { name, tag, source } = spec.spec.image;
  try {
    const found = await verifyImage({ ref: { registry: source, repository: name, tag }, credentials: credentialsFromEnv(env) });
    if (found.present) return undefined;
  } catch (err) {
    if (err instanceof RegistryError && (err.retryable || err.status === 401 || err.status === 403)) {
      return `could not check that ${name}:${tag} is in ${source} from here (${err.message}); the workers will`;
    }
    throw err;
  }
  throw new InvalidInputError(`spec.image: no image ${name}:${tag} in ${source}: push it there first, or fix spec.image (name, tag, source); nothing started`);
}
