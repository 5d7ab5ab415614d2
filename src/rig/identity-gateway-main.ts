/**
 * Process entry of the production profile's identity gateway (see identity-gateway.ts), started
 * detached by `meridian dev up --profile production` with the path of its JSON config.
 */
import { readFileSync } from 'node:fs';
import { type IdentityGatewayConfig, startIdentityGateway } from './identity-gateway';

const configFile = process.argv[2];
const config = JSON.parse(readFileSync(configFile, 'utf8')) as IdentityGatewayConfig;
startIdentityGateway(config).then(
  (servers) => {
    const stop = () => {
      for (const s of servers) s.close();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
  (err: unknown) => {
    process.stderr.write(`identity gateway failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
