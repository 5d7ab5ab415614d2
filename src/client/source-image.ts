import { verifyImage } from '../infra/registry/copy-image';
import { credentialsFromEnv } from '../infra/registry/registry-auth';
import { InvalidInputError } from '../domain/errors';
import type { ReleaseSpec } from '../domain/release-spec';

/**
 * Before a release starts: the image must be in the source registry, or nothing starts. A source this
 * machine cannot reach or may not read is only a warning: the workers may well reach it.
 */
export async function checkSourceImage(
  spec: ReleaseSpec,
  env: NodeJS.ProcessEnv,
): Promise<{ digest?: string; warning?: string }> {
  const { name, tag, source } = spec.spec.image;
  try {
    const found = await verifyImage({
      ref: { registry: source, repository: name, tag },
      credentials: credentialsFromEnv(env),
    });
    if (found.present) return { digest: found.digest };
  } catch (err) {
    // Only the registry saying the image is absent stops the release: DNS, TLS, login or a local auth
    // file this machine lacks are this machine's problems, not the release's.
    return {
      warning: `could not check that ${name}:${tag} is in ${source} from here (${(err as Error).message}); the workers will`,
    };
  }
  throw new InvalidInputError(
    `spec.image: no image ${name}:${tag} in ${source}: push it there first, or fix spec.image (name, tag, source); nothing started`,
  );
}
