/**
 * Reading a registry's `WWW-Authenticate` header (RFC 7235): which scheme it wants and, for Bearer,
 * where to get a token (`realm`), for which `service` and `scope`.
 */

/** One challenge of a `WWW-Authenticate` header. */
export interface AuthChallenge {
  /** Scheme in lowercase: `basic`, `bearer`. */
  scheme: string;
  /** Parameters by lowercase name, values unquoted. */
  params: Record<string, string>;
}

const PARAM = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)/;
const SCHEME = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)/;

/** The challenges in a header value, in order; a header may hold several, separated by commas. */
export function parseAuthChallenges(header: string | null): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let rest = header ?? '';
  for (;;) {
    rest = rest.replace(/^[\s,]+/, '');
    if (rest === '') return challenges;
    const param = challenges.length > 0 ? PARAM.exec(rest) : null;
    if (param) {
      const raw = param[2];
      const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      challenges[challenges.length - 1].params[param[1].toLowerCase()] = value;
      rest = rest.slice(param[0].length);
      continue;
    }
    const scheme = SCHEME.exec(rest);
    if (!scheme) return challenges; // unparseable rest: keep what was understood
    challenges.push({ scheme: scheme[1].toLowerCase(), params: {} });
    rest = rest.slice(scheme[0].length);
  }
}
