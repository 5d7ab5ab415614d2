import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigForContext } from '../../src/infra/kubernetes/kube-config';
import { demoRegionsFromRelease } from '../../src/rig/demo-regions';
import { defaultRigConfigFile, loadRigConfig, rigLayout } from '../../src/rig/rig-config';
import { currentProfile, productionClientEnv } from '../../src/rig/production-profile';
import { readPowerDnsApiKey, rigCredentialsDir } from '../../src/rig/rig-credentials';
import { temporalEndpoints } from '../../src/rig/temporal-dev-server';

/**
 * The local rig the suite runs against: scripts/test.sh brings it up with `meridian dev up` before
 * jest starts. These helpers read the same config and state directory.
 */
export function theRig() {
  const config = loadRigConfig(defaultRigConfigFile());
  const layout = rigLayout();
  const profile = currentProfile(layout);
  return {
    config,
    layout,
    /** Which Temporal the rig runs: the dev server, or the production profile's cluster (mTLS, API keys, encrypted payloads). */
    profile,
    /** What a client exports to reach the rig's Temporal (the rig's temporal.toml profile and codec key in production). */
    clientEnv: {
      ...(profile === 'production' ? productionClientEnv(layout, { dir: rigCredentialsDir(layout.dir) }) : {}),
      // The example's spec.traffic names this variable: workers and `meridian traffic` read the DNS API key from it.
      ...powerDnsKeyEnv(layout.dir),
    },
    temporal: temporalEndpoints(config),
    regions: demoRegionsFromRelease(config.release),
    kube: (context: string): KubeConfig => kubeConfigForContext(context, layout.kubeconfig),
  };
}

/** MERIDIAN_POWERDNS_API_KEY from the rig's credentials folder, once `dev up` made it. */
function powerDnsKeyEnv(rigDir: string): Record<string, string> {
  const key = readPowerDnsApiKey(rigDir);
  return key ? { MERIDIAN_POWERDNS_API_KEY: key } : {};
}

export { eventually } from './eventually';

/** A name unique to this run, for namespaces and workflow ids. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
