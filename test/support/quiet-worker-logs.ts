import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log only warnings and errors: a passing run should read as a list of tests.
Runtime.install({ logger: new DefaultLogger('WARN') });
