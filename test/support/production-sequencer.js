/**
 * Order of the production tier's files: the releases first, the failures next, the secret scan last
 * (it searches what the others left). Files not listed run in between, by name.
 */
// Jest loads a sequencer as plain CommonJS, outside the TypeScript transform.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Sequencer = require('@jest/test-sequencer').default;

const first = ['release.test.ts', 'failures.test.ts'];
const last = ['secret-scan.test.ts'];
const rank = (path) => {
  const name = path.split('/').pop();
  if (first.includes(name)) return first.indexOf(name);
  if (last.includes(name)) return 100 + last.indexOf(name);
  return 50;
};

class ProductionSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}

module.exports = ProductionSequencer;
